"""Daemon soak: does `newsmon run` hold its memory over many scheduled runs? (a script, not a test)

Starts both replica sites on 127.0.0.1 and a local Slack-like webhook, then `newsmon run` on a
config that crawls each site every second. Every tenth finished run publishes a new matching
story, so crawls store, match, queue and deliver alerts as in production. The daemon's resident
memory (VmRSS from /proc/PID/status; its crawl children are separate processes and not counted)
is sampled after run 20 and after run 200; the acceptance bar is a ratio within 10%.

    .venv/bin/python bench/soak.py                  # 200 runs, two sites (about 5-10 minutes)
    .venv/bin/python bench/soak.py --runs 60 --sites 1
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml

from replica.base import Story
from replica.server import ReplicaServer
from replica.sinks import WebhookSink
from replica.sites import caliber, eqmint

REPO = Path(__file__).resolve().parents[1]
STORY_EVERY = 10  # finished runs between two published stories
TOLERANCE = 0.10


@dataclass
class Sample:
    runs: int
    rss_kib: int
    elapsed: float


def rss_kib(pid: int) -> int:
    """Resident set size of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for pid {pid}")


def finished_runs(db: Path) -> list[tuple[str, str]]:
    """(site, status) of every finished run so far."""
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    try:
        return conn.execute(
            "SELECT site, status FROM runs WHERE status != 'running' ORDER BY id"
        ).fetchall()
    except sqlite3.OperationalError:  # the daemon has not created the schema yet
        return []
    finally:
        conn.close()


def write_config(folder: Path, servers: list[ReplicaServer], sink: WebhookSink, every: str) -> Path:
    sites = [
        {"name": s.site.name, "spider": s.site.name, "url": s.base_url, "every": every}
        for s in servers
    ]
    doc = {
        "database": "newsmon.db",
        "watches": [{"name": "takaichi", "query": "Takaichi"}],
        "sites": sites,
        "alerts": {"slack": {"webhook_url": sink.url, "mode": "digest"}},
    }
    path = folder / "newsmon.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def publish(server: ReplicaServer, n: int) -> None:
    """A new story that matches the watch, so the next crawl has something to alert on."""
    server.site.add_story(
        Story(
            slug=f"takaichi-soak-story-{n}",
            title=f"Takaichi soak story number {n}",
            author="Soak Bench",
            published=datetime.now(UTC).replace(microsecond=0),
            section="Politics" if server.site.name == "caliber" else "General News",
            paragraphs=[f"Prime Minister Takaichi said something new, for the {n}th time."],
        )
    )


def soak(args: argparse.Namespace, folder: Path) -> int:
    servers = [ReplicaServer(caliber()).start(), ReplicaServer(eqmint()).start()][: args.sites]
    sink = WebhookSink()
    sink.start()
    config = write_config(folder, servers, sink, args.every)
    db = folder / "newsmon.db"
    log = (folder / "daemon.log").open("wb")
    cmd = [
        sys.executable,
        "-m",
        "crawler",
        "-c",
        str(config),
        "--log-level",
        "INFO",
        "run",
        "--deliver-every",
        "5",
    ]
    daemon = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    samples: list[Sample] = []
    started = time.monotonic()
    published = 0
    try:
        while True:
            runs = finished_runs(db)
            if daemon.poll() is not None:
                print(f"the daemon exited early with status {daemon.returncode}", file=sys.stderr)
                return 1
            if len(runs) // STORY_EVERY > published:
                published += 1
                publish(servers[published % len(servers)], published)
            for mark in (args.sample_at, args.runs):
                if len(runs) >= mark and all(s.runs != mark for s in samples):
                    samples.append(Sample(mark, rss_kib(daemon.pid), time.monotonic() - started))
                    print(
                        f"after run {mark}: RSS {samples[-1].rss_kib} KiB "
                        f"({samples[-1].elapsed:.0f} s)",
                        flush=True,
                    )
            if len(runs) >= args.runs:
                break
            time.sleep(0.2)
        status = stop(daemon)
    finally:
        if daemon.poll() is None:
            stop(daemon)
        log.close()
        sink.stop()
        for server in servers:
            server.stop()
    return report(samples, finished_runs(db), len(sink.posts), status)


def stop(daemon: subprocess.Popen[bytes]) -> int:
    daemon.send_signal(signal.SIGTERM)
    return daemon.wait(60)


def report(samples: list[Sample], runs: list[tuple[str, str]], posts: int, status: int) -> int:
    first, last = samples
    ratio = last.rss_kib / first.rss_kib
    by_status: dict[str, int] = {}
    for _, outcome in runs:
        by_status[outcome] = by_status.get(outcome, 0) + 1
    print(
        f"runs: {len(runs)} ({', '.join(f'{k} {v}' for k, v in sorted(by_status.items()))}) "
        f"in {last.elapsed:.0f} s; webhook posts: {posts}; daemon exit status {status}"
    )
    print(
        f"RSS after run {first.runs}: {first.rss_kib} KiB; after run {last.runs}: "
        f"{last.rss_kib} KiB; ratio {ratio:.3f}"
    )
    ok = abs(ratio - 1) <= TOLERANCE and status == 0
    print("PASS" if ok else f"FAIL (ratio must be within {TOLERANCE:.0%}, exit status 0)")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="finished runs to wait for")
    parser.add_argument("--sample-at", type=int, default=20, help="first RSS sample")
    parser.add_argument("--sites", type=int, choices=(1, 2), default=2)
    parser.add_argument("--every", default="1s", help="each site's schedule")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (log, database)")
    args = parser.parse_args()
    if args.keep:
        folder = Path(args.keep)
        folder.mkdir(parents=True, exist_ok=True)
        return soak(args, folder)
    with tempfile.TemporaryDirectory(prefix="newsmon-soak-") as tmp:
        return soak(args, Path(tmp))


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # so that the daemon and the servers are cleaned up


if __name__ == "__main__":
    os.environ.pop("NEWSMON_CONFIG", None)
    signal.signal(signal.SIGTERM, _interrupted)
    sys.exit(main())
