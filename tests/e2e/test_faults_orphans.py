"""A crawl killed outright takes its extraction pool (fork server and workers) with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from replica.server import ReplicaServer
from tests.helpers import REPO, write_config


def children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def test_kill_9_of_a_crawl_leaves_no_pool_process(
    tmp_path: Path, caliber_server: ReplicaServer
) -> None:
    caliber_server.set_fault("/en/post/", "slow", chunk=2048, delay=1.0)
    config = write_config(
        tmp_path, [{"name": "caliber", "spider": "caliber", "url": caliber_server.base_url}]
    )
    env = {**os.environ, "NEWSMON_EXTRACT_WORKERS": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "-c", str(config), "crawl"],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pool: set[int] = set()
    deadline = time.monotonic() + 30
    while not pool and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        pool = children(proc.pid)
    assert pool, "the crawl started its extraction pool"
    descendants = pool | {c for p in pool for c in children(p)}
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in descendants):
        time.sleep(0.2)
    alive = [
        p
        for p in descendants
        if Path(f"/proc/{p}/stat").exists()
        and Path(f"/proc/{p}/stat").read_text().split(") ", 1)[1][0] != "Z"
    ]
    assert not alive, f"pool processes outlived the crawl: {alive}"
