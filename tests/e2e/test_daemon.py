"""`newsmon run` as a real process against the replica sites, on schedules of a few seconds.

Every daemon is started in a fixture that kills it, and every process whose command line names
the test's config (its crawl children, one-off crawls), even when a test fails.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crawler.config import load_config, parse_config
from crawler.daemon import schedule
from crawler.daemon import service as daemon_module
from crawler.daemon.locks import SiteLock
from crawler.daemon.status import site_status
from crawler.db import connect
from replica.base import Story
from replica.server import ReplicaServer
from replica.sinks import WebhookSink
from tests.helpers import REPO, run_newsmon, write_config

# --- scheduling rules (no processes) -----------------------------------------------------------


def site(**fields: Any) -> Any:
    doc = {"name": "caliber", "spider": "caliber", "url": "http://127.0.0.1:9/en/", **fields}
    return parse_config({"sites": [doc]}).sites[0]


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("1", "mon"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("*/2", "sun,tue,thu,sat"),
        ("5-7", "sun,fri,sat"),
        ("sat,sun", "sun,sat"),
        ("mon-wed", "mon,tue,wed"),
    ],
)
def test_cron_weekdays_are_read_as_cron_reads_them(field: str, names: str) -> None:
    assert schedule.cron_weekdays(field) == names


def test_a_monday_cron_fires_on_monday() -> None:
    trigger = schedule.cron_trigger("0 9 * * 1")
    fire = trigger.get_next_fire_time(None, datetime(2025, 11, 1, tzinfo=UTC))  # a Saturday
    assert fire is not None and fire.strftime("%A") == "Monday"


def test_catch_up_after_downtime_runs_at_once() -> None:
    now = datetime(2025, 11, 1, 12, 0, tzinfo=UTC)
    every = site(every="15m")
    assert schedule.first_run(every, None, now) == now
    assert schedule.first_run(every, now - timedelta(hours=3), now) == now
    assert schedule.first_run(every, now - timedelta(minutes=5), now) == now + timedelta(minutes=10)
    hourly = site(cron="0 * * * *")
    later = now + timedelta(minutes=5)
    assert schedule.first_run(hourly, now - timedelta(minutes=5), later) == later  # missed 12:00
    assert schedule.first_run(hourly, now + timedelta(minutes=1), later) == now + timedelta(hours=1)


def test_sites_sharing_a_schedule_are_spread_a_little() -> None:
    phases = {schedule.phase(site(name=f"s{i}", every="15m")) for i in range(20)}
    assert len(phases) == 20
    assert all(timedelta(0) <= p < timedelta(seconds=60) for p in phases)
    assert schedule.spread(site(every="2s")) == timedelta(seconds=0.2)
    assert schedule.misfire_grace(site(every="1h")) == 3600


def test_reload_reschedules_and_a_bad_file_keeps_the_running_config(tmp_path: Path) -> None:
    def sites(*entries: tuple[str, str]) -> list[dict[str, Any]]:
        return [
            {"name": name, "spider": "generic", "url": "http://127.0.0.1:9/", "every": every}
            for name, every in entries
        ]

    path = write_config(tmp_path, sites(("a", "1h"), ("b", "1h"), ("c", "1h")))
    daemon = daemon_module.Daemon(load_config(path), "WARNING")
    daemon.scheduler.start(paused=True)  # jobs are real, but nothing fires
    try:
        daemon._schedule_sites()
        kept = daemon.scheduler.get_job("crawl:a").next_run_time
        write_config(tmp_path, sites(("a", "1h"), ("b", "2h")))
        daemon.reload()
        jobs = {j.id: j for j in daemon.scheduler.get_jobs()}
        assert set(jobs) == {"crawl:a", "crawl:b"}
        assert jobs["crawl:a"].next_run_time == kept  # unchanged schedule, untouched job
        assert jobs["crawl:b"].trigger.interval == timedelta(hours=2)

        path.write_text("sites: [unclosed")
        daemon.reload()
        assert {j.id for j in daemon.scheduler.get_jobs()} == {"crawl:a", "crawl:b"}
        assert [s.name for s in daemon.config.sites] == ["a", "b"]
    finally:
        daemon.scheduler.shutdown(wait=False)


# --- the daemon as a process -------------------------------------------------------------------


class Daemon:
    """A running `newsmon run` and its log."""

    def __init__(self, config: Path, args: tuple[str, ...], log: Path) -> None:
        self.config, self.log_path = config, log
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("NEWSMON_CONFIG", None)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "crawler", "-c", str(config), "--log-level", "INFO",
                 "run", *args],
                stdout=out, stderr=subprocess.STDOUT, cwd=REPO, env=env,
            )  # fmt: skip

    @property
    def db(self) -> Path:
        return self.config.parent / "newsmon.db"

    def log(self) -> str:
        """newsmon's lines of the daemon's log, the last 4,000 characters (for messages)."""
        return self.full_log()[-4000:]

    def full_log(self) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(line for line in text.splitlines() if "crawler." in line)

    def rows(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        if not self.db.exists():
            return []
        conn = sqlite3.connect(self.db, timeout=30)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:  # tables not created yet
            return []
        finally:
            conn.close()

    def launches(self, site: str = "caliber") -> list[datetime]:
        """When the daemon started each crawl of ``site``, from its log."""
        found = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            if f"crawler.daemon.crawl_job: {site}: crawl started" in line:
                stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
                found.append(stamp.astimezone())  # the log's times are local
        return found

    def runs(self, site: str = "caliber") -> list[sqlite3.Row]:
        return self.rows("SELECT * FROM runs WHERE site = ? ORDER BY id", site)

    def child(self, site: str = "caliber") -> int | None:
        """The pid of the daemon's crawl of ``site`` in progress (from the site's lock file)."""
        lock = self.db.with_name(f"{self.db.name}.{site}.lock")
        try:
            pid = int(lock.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if parent_of(pid) == self.proc.pid else None

    def wait(self, what: str, probe: Callable[[], Any], timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = probe()
            if value:
                return value
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        full = self.log_path.read_text(errors="replace")[-30000:]
        pytest.fail(f"timed out waiting for {what}; daemon log:\n{full}")

    def stop(self, timeout: float) -> tuple[int, float]:
        """SIGTERM; returns the exit status and how long the daemon took to exit."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"still running {timeout}s after SIGTERM; log:\n{self.log()}")
        return status, time.monotonic() - started


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] == "Z" else int(fields[1])


def processes_naming(text: str) -> list[int]:
    """Live processes whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline and parent_of(int(entry.name)) is not None:
            found.append(int(entry.name))
    return found


@pytest.fixture
def start_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def start(config: Path, *args: str) -> Daemon:
        daemon = Daemon(config, args, tmp_path / f"daemon{len(started)}.log")
        started.append(daemon)
        return daemon

    yield start
    for daemon in started:
        if daemon.proc.poll() is None:
            daemon.proc.kill()
            daemon.proc.wait(10)
        for pid in processes_naming(str(daemon.config)):
            os.kill(pid, signal.SIGKILL)


def caliber_site(server: ReplicaServer, **fields: Any) -> dict[str, Any]:
    return {"name": "caliber", "spider": "caliber", "url": server.base_url, **fields}


def robots_requests(server: ReplicaServer) -> int:
    return sum(1 for r in server.requests if r.path == "/robots.txt")


def at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def assert_found_on_schedule(
    daemon: Daemon, published: datetime, alert: sqlite3.Row, every: timedelta
) -> None:
    """The daemon launched a crawl within one interval of the site being free (no crawl of
    it running), that crawl stored the story, and its alert went out right after the crawl.

    Launch times come from the daemon's log: a run's own started_at is later by the child's
    start-up (importing Scrapy), which says nothing about the schedule.
    """
    runs = daemon.runs()
    (found,) = [
        r for r in runs if r["started_at"] <= alert["first_seen"] <= (r["finished_at"] or "~")
    ]
    moment = published.replace(microsecond=0)  # stored times have whole seconds
    # A run in progress at publication holds the site (max_instances=1) until it is recorded.
    busy = [
        at(r["finished_at"])
        for r in runs
        if at(r["started_at"]) <= moment and r["finished_at"] and at(r["finished_at"]) >= moment
    ]
    free = max([published, *busy])
    launches = daemon.launches()
    launched = max(t for t in launches if t.replace(microsecond=0) <= at(found["started_at"]))
    if launched > published:  # else the crawl running at publication found it: fine too
        assert launched == min(t for t in launches if t > published), "a crawl missed it"
        assert launched - free <= every + timedelta(seconds=2), (free, launched)
    assert at(alert["sent_at"]) - at(found["finished_at"]) <= timedelta(seconds=3)


def test_a_new_story_is_stored_and_alerted_within_one_interval(
    tmp_path: Path, caliber_server: ReplicaServer, start_daemon: Callable[..., Daemon]
) -> None:
    with WebhookSink() as sink:
        config = write_config(
            tmp_path,
            [caliber_site(caliber_server, every="3s")],
            alerts={"slack": {"webhook_url": sink.url, "mode": "instant"}},
        )
        # Delivery on its timer only every minute: what arrives comes from the pass after a crawl.
        daemon = start_daemon(config, "--deliver-every", "60", "--stop-grace", "2")
        daemon.wait("the first run", lambda: [r for r in daemon.runs() if r["status"] == "ok"])
        seen = daemon.wait("the first alerts delivered", lambda: len(sink.posts))

        slug = "takaichi-opens-daemon-test-summit"
        published = datetime.now(UTC)
        caliber_server.site.add_story(
            Story(
                slug=slug,
                title="Takaichi opens daemon test summit",
                author="Test Author",
                published=published.replace(microsecond=0),
                section="Politics",
                paragraphs=["Prime Minister Takaichi opened the summit on Monday."],
            )
        )
        (alert,) = daemon.wait(
            "the new story's alert sent",
            lambda: daemon.rows(
                "SELECT al.sent_at, a.first_seen FROM alerts al "
                "JOIN articles a ON a.id = al.article_id "
                "WHERE a.url LIKE ? AND al.status = 'sent'",
                f"%{slug}%",
            ),
            timeout=30,
        )
        assert_found_on_schedule(daemon, published, alert, every=timedelta(seconds=3))
        assert len(sink.posts) > seen
        assert "daemon test summit" in json.dumps(sink.posts[-1])

        db = connect(daemon.db)
        try:
            (status,) = site_status(db, load_config(config))
        finally:
            db.close()
        assert status["health"] == "ok"
        assert status["next_run"] not in (None, "now")  # the daemon's own, as it published it

        code, _ = daemon.stop(timeout=15)
    assert code == 0, daemon.log()
    assert "newsmon run: stopped" in daemon.full_log()
    assert processes_naming(str(config)) == []


def test_a_hanging_crawl_is_killed_at_its_limit_and_the_next_run_happens(
    tmp_path: Path, caliber_server: ReplicaServer, start_daemon: Callable[..., Daemon]
) -> None:
    caliber_server.set_fault("/", "hang", seconds=60)  # every path: feed, listings, search...
    config = write_config(tmp_path, [caliber_site(caliber_server, every="2s")])
    # While someone else holds the site, the daemon's crawl is skipped, logged, and not recorded.
    with SiteLock(tmp_path / "newsmon.db", "caliber"):
        daemon = start_daemon(config, "--kill-grace", "2")
        daemon.wait(
            "the busy site skipped", lambda: "caliber: skipped: another crawl" in daemon.full_log()
        )
        assert daemon.runs() == []
        # SIGHUP: a 1 s time limit from the next crawl on.
        write_config(tmp_path, [caliber_site(caliber_server, every="2s", time_limit="1s")])
        daemon.proc.send_signal(signal.SIGHUP)
        daemon.wait("the reload", lambda: "newsmon.yaml read again" in daemon.full_log())

    killed = daemon.wait(
        "two hung crawls killed, one after the other",
        lambda: [r for r in daemon.runs() if "killed at the time limit" in (r["error"] or "")][1:],
        timeout=60,  # each takes its limit, the kill grace and the cancellation: ~6 s when idle
    )
    assert killed[0]["status"] == "error"
    assert killed[0]["finished_at"] is not None
    assert daemon.proc.poll() is None

    # SIGHUP with a broken file: logged, and the daemon goes on with the configuration it has.
    config.write_text("sites: [unclosed")
    daemon.proc.send_signal(signal.SIGHUP)
    daemon.wait(
        "the failed reload logged", lambda: "keeping the running configuration" in daemon.full_log()
    )
    assert daemon.proc.poll() is None
    code, _ = daemon.stop(timeout=15)
    assert code == 0
    assert not [r for r in daemon.runs() if r["status"] == "running"]
    assert processes_naming(str(config)) == []


def test_a_killed_child_is_recorded_a_one_off_crawl_is_refused_and_sigterm_is_clean(
    tmp_path: Path, caliber_server: ReplicaServer, start_daemon: Callable[..., Daemon]
) -> None:
    caliber_server.set_fault("/", "hang", seconds=60)
    config = write_config(tmp_path, [caliber_site(caliber_server, every="2s", time_limit="60s")])
    daemon = start_daemon(config, "--stop-grace", "3")
    first = daemon.wait("the daemon's crawl", daemon.child)
    daemon.wait("the crawl's run row", lambda: daemon.runs())

    # A one-off crawl of the same site meanwhile: refused, and it neither crawls nor records.
    runs_before, robots_before = len(daemon.runs()), robots_requests(caliber_server)
    one_off = run_newsmon(config, "crawl", "caliber")
    assert one_off.returncode == 1
    assert f"skipped: another crawl of caliber is running (pid {first})" in one_off.stderr
    assert len(daemon.runs()) == runs_before
    assert robots_requests(caliber_server) == robots_before

    os.kill(first, signal.SIGKILL)
    daemon.wait(
        "the killed crawl recorded",
        lambda: [r for r in daemon.runs() if "killed by signal SIGKILL" in (r["error"] or "")],
    )
    second = daemon.wait(
        "the next crawl", lambda: daemon.child() not in (None, first) and daemon.child()
    )
    assert daemon.proc.poll() is None

    code, took = daemon.stop(timeout=15)
    assert code == 0, daemon.log()
    assert took < 3 + 3, took  # the grace, plus a little to record and exit
    assert parent_of(second) is None  # the hanging crawl did not outlive the daemon
    assert processes_naming(str(config)) == []
    # Ended mid-crawl: recorded as an error, by the crawl itself or for it.
    assert daemon.runs()[-1]["status"] == "error"
    assert not [r for r in daemon.runs() if r["status"] == "running"]


# --- the worker runtime ------------------------------------------------------------------------


def worker_pids(daemon: Daemon) -> list[int]:
    """The daemon's crawl workers, in the order the log says they started."""
    found = re.findall(r"crawler\.daemon\.supervisor: worker (\d+) started", daemon.full_log())
    return [int(pid) for pid in dict.fromkeys(found)]


def test_a_hung_crawl_is_cancelled_at_its_limit_while_the_same_worker_crawls_on(
    tmp_path: Path,
    caliber_server: ReplicaServer,
    eqmint_server: ReplicaServer,
    start_daemon: Callable[..., Daemon],
) -> None:
    caliber_server.set_fault("/", "hang", seconds=60)
    # Many sources: while robots.txt hangs they wait behind it, and once it is cancelled they
    # would queue for AutoThrottle's delay, a quarter of a second each, unless cancelled too.
    listings = [f"{caliber_server.base_url}/en/category/world?page={n}" for n in range(60)]
    config = write_config(
        tmp_path,
        [
            caliber_site(caliber_server, every="2s", time_limit="1s", listings=listings),
            {"name": "eqmint", "spider": "eqmint", "url": eqmint_server.base_url, "every": "2s"},
        ],
    )
    daemon = start_daemon(config, "--kill-grace", "1")
    killed = daemon.wait(
        "the hung crawl stopped at its limit",
        lambda: [r for r in daemon.runs() if "killed at the time limit" in (r["error"] or "")],
    )
    # Its downloads were cancelled, waiting ones included: the worker recorded the run at once
    # after its hard limit (1s + 1s) and lives on.
    took = at(killed[0]["finished_at"]) - at(killed[0]["started_at"])
    assert took < timedelta(seconds=2 + 2), took
    ok_before = len([r for r in daemon.runs("eqmint") if r["status"] == "ok"])
    daemon.wait(
        "eqmint crawled again in the same worker",
        lambda: len([r for r in daemon.runs("eqmint") if r["status"] == "ok"]) > ok_before + 1,
    )
    assert len(worker_pids(daemon)) == 1, daemon.log()
    assert "worker" not in "".join(r["error"] or "" for r in daemon.runs("eqmint"))
    code, _ = daemon.stop(timeout=15)
    assert code == 0, daemon.log()
    assert not [r for r in daemon.rows("SELECT * FROM runs") if r["status"] == "running"]
    assert processes_naming(str(config)) == []


@pytest.mark.parametrize(
    ("option", "why"),
    [
        (("--worker-max-crawls", "2"), "recycled after 2 crawls"),
        (("--worker-max-rss", "1"), "recycled after its memory grew to"),
    ],
)
def test_workers_are_recycled_and_no_run_is_lost(
    tmp_path: Path,
    caliber_server: ReplicaServer,
    start_daemon: Callable[..., Daemon],
    option: tuple[str, str],
    why: str,
) -> None:
    config = write_config(tmp_path, [caliber_site(caliber_server, every="1s")])
    daemon = start_daemon(config, *option)
    daemon.wait("three workers", lambda: len(worker_pids(daemon)) >= 3, timeout=60)
    assert why in daemon.full_log()
    code, _ = daemon.stop(timeout=15)
    assert code == 0, daemon.log()
    runs = daemon.runs()
    assert len(runs) >= 3
    assert {r["status"] for r in runs} == {"ok"}, [r["error"] for r in runs]
    assert processes_naming(str(config)) == []
    assert all(parent_of(pid) is None for pid in worker_pids(daemon))
