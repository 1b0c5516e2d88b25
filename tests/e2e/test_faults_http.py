"""HTTP faults: hangs, slow answers, resets, redirect loops, 404/410/500/503/429 (with
Retry-After). Each costs its own page or source, is recorded in the run, and the run ends within
its time limit; a crawl that hangs past the limit is stopped hard, helpers included."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from replica.server import ReplicaServer
from replica.sites import story_path
from tests.helpers import FAST_ENV, REPO, run_newsmon, runs, stored, write_config

TIME_LIMIT = 30


def story_paths(server: ReplicaServer) -> list[str]:
    """Paths of the site's stories in its own (base URL) edition, newest first."""
    if server.site.name == "caliber":
        return [story_path(s) for s in server.site.stories if s.language == "en"]
    return [f"/{s.slug}/" for s in server.site.stories]


def test_each_fault_costs_only_its_page_and_is_recorded(
    tmp_path: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> None:
    cal, eqm = story_paths(caliber_server), story_paths(eqmint_server)
    caliber_server.set_fault(cal[0], "hang", seconds=60)
    caliber_server.set_fault(cal[1], "reset")
    caliber_server.set_fault(cal[2], "redirect_loop", mode="self")
    caliber_server.set_fault(cal[3], "status", code=503, retry_after=120)  # capped at 1 s
    caliber_server.set_fault(cal[4], "slow", chunk=256, delay=0.3)  # slower than the timeout
    caliber_server.set_fault(cal[5], "slow", chunk=4096, delay=0.1)  # slow but in time
    caliber_server.set_fault("/rss.xml", "status", code=503, retry_after=1, times=1)
    eqmint_server.set_fault(eqm[0], "status", code=404)
    eqmint_server.set_fault(eqm[1], "status", code=410)
    eqmint_server.set_fault(eqm[2], "status", code=500)
    eqmint_server.set_fault(eqm[3], "status", code=429, retry_after=120)
    eqmint_server.set_fault(eqm[4], "redirect_loop", mode="pair")
    eqmint_server.set_fault("/feed/", "reset")
    limit = f"{TIME_LIMIT}s"
    config = write_config(
        tmp_path,
        [
            {
                "name": "caliber",
                "spider": "caliber",
                "url": caliber_server.base_url,
                "time_limit": limit,
            },
            {
                "name": "eqmint",
                "spider": "eqmint",
                "url": eqmint_server.base_url,
                "time_limit": limit,
            },
        ],
    )
    started = time.monotonic()
    result = run_newsmon(config, "--log-level", "INFO", "crawl", env=FAST_ENV)
    took = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr  # partial runs are not failures
    assert took < TIME_LIMIT, f"the crawl took {took:.0f} s"
    db = tmp_path / "newsmon.db"
    by_site = runs(db)

    status, _, new, errors, error = by_site["caliber"]
    # Every story but the five whose pages fail (Russian and Azerbaijani ones included).
    assert (status, new, errors) == ("partial", len(caliber_server.site.stories) - 5, 5)
    assert error is not None and error.startswith("5 story pages failed: ")
    for path, reason in [
        (cal[0], "DownloadTimeoutError"),
        (cal[1], "ConnectionLost"),
        (cal[2], "max redirections reached"),
        (cal[3], "HTTP 503"),
        (cal[4], "DownloadTimeoutError"),
    ]:
        assert reason in reason_for(error, caliber_server.url(path)), (path, error)
    assert "/rss.xml" not in error, "the RSS answered on its retry"

    status, _, new, errors, error = by_site["eqmint"]
    assert (status, new, errors) == ("partial", 6, 6)
    assert error is not None
    assert f"{eqmint_server.url('/feed/')}: feed: DownloadFailedError: ConnectionLost" in error
    for path, reason in [
        (eqm[0], "HTTP 404"),
        (eqm[1], "HTTP 410"),
        (eqm[2], "HTTP 500"),
        (eqm[3], "HTTP 429"),
        (eqm[4], "IgnoreRequest: max redirections reached"),
    ]:
        assert reason_for(error, eqmint_server.url(path)) == reason, (path, error)

    # Everything else is stored, the slow-but-in-time page included.
    urls = set(stored(db))
    assert caliber_server.url(cal[5]) in urls
    assert len(stored(db, "caliber")) == len(caliber_server.site.stories) - 5
    assert len(stored(db, "eqmint")) == 6
    # Retries where a retry can help (and only there), after the server's Retry-After.
    asked = Counter(r.path for r in [*caliber_server.requests, *eqmint_server.requests])
    assert asked[eqm[0]] == asked[eqm[1]] == 1
    assert asked[eqm[2]] == asked[eqm[3]] == asked[cal[3]] == 3
    assert asked["/rss.xml"] == 2
    assert "answered 429: retrying in 1 s" in result.stderr
    summary = result.stdout.splitlines()
    assert any(line.startswith("caliber: partial") for line in summary)


def test_a_crawl_hanging_past_its_limit_is_stopped_with_its_helpers(
    tmp_path: Path, caliber_server: ReplicaServer
) -> None:
    caliber_server.set_fault("/en/post/", "hang", seconds=120)
    config = write_config(
        tmp_path,
        [
            {
                "name": "caliber",
                "spider": "caliber",
                "url": caliber_server.base_url,
                "time_limit": "3s",
            }
        ],
    )
    # Downloads time out long after the limit; the hard stop comes 2 s past it.
    env = {**os.environ, "NEWSMON_HARD_STOP_GRACE": "2", "NEWSMON_DOWNLOAD_TIMEOUT": "60"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "-c", str(config), "crawl"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    helpers: set[int] = set()
    started = time.monotonic()
    while proc.poll() is None and time.monotonic() - started < 30:
        helpers |= descendants(proc.pid)
        time.sleep(0.05)
    # Reading to the end returns: nothing left behind holds the crawl's output open.
    out, _ = proc.communicate(timeout=10)
    took = time.monotonic() - started
    assert proc.returncode == 1
    assert took < 3 + 2 + 5, f"stopped after {took:.0f} s"
    assert b"caliber: error  stopped: still running past its time limit" in out
    assert runs(tmp_path / "newsmon.db")["caliber"][0] == "error"
    assert helpers, "the crawl ran extraction helpers (the pool) to be stopped"
    time.sleep(0.5)
    assert not [pid for pid in helpers if alive(pid)], "helper processes outlived the crawl"


def test_a_crawl_stops_at_its_time_limit_when_downloads_time_out(
    tmp_path: Path, caliber_server: ReplicaServer
) -> None:
    caliber_server.set_fault("/en/post/", "hang", seconds=120)
    config = write_config(
        tmp_path,
        [
            {
                "name": "caliber",
                "spider": "caliber",
                "url": caliber_server.base_url,
                "time_limit": "3s",
            }
        ],
    )
    started = time.monotonic()
    result = run_newsmon(config, "crawl", env=FAST_ENV)
    took = time.monotonic() - started
    assert result.returncode == 1
    assert took < 3 + 2 + 6, f"stopped after {took:.0f} s"
    status, *_, error = runs(tmp_path / "newsmon.db")["caliber"]
    assert (status, error) == ("error", "stopped at the time limit (3s)")


def reason_for(error: str, url: str) -> str:
    """The reason a run's error gives for one failed page: "URL (reason)"."""
    start = error.index(f"{url} (") + len(url) + 2
    return error[start : error.index(")", start)]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid``, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = set(), list(children.get(pid, []))
    while todo:
        child = todo.pop()
        found.add(child)
        todo += children.get(child, [])
    return found


def alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z"
