"""How the daemon records a crawl from what its worker reported, on a real SQLite file: the
crawl's own record wins, except where the daemon's limits or a dead worker ended the crawl."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from crawler.config import parse_config
from crawler.daemon.crawl_job import CrawlJob
from crawler.daemon.locks import SiteBusy, SiteLock
from crawler.daemon.supervisor import Report
from crawler.db import connect, runs


@pytest.fixture
def job(tmp_path: Path) -> Iterator[CrawlJob]:
    site = {"name": "caliber", "spider": "caliber", "url": "http://127.0.0.1:9/en/"}
    config = parse_config({"database": str(tmp_path / "newsmon.db"), "sites": [site]})
    crawl = CrawlJob(config.database, config.sites[0], kill_grace=30)
    crawl.lock_site()
    yield crawl
    crawl.lock.release()


def recorded(job: CrawlJob, status: str | None, **counts: int) -> int:
    """A run as the crawl itself would record it (``status`` None: left running)."""
    with connect(job.database) as db:
        run_id = runs.start(db, job.site.name)
        if status is not None:
            runs.finish(db, run_id, status, **counts)
    return run_id


def test_the_crawls_own_record_is_the_outcome(job: CrawlJob) -> None:
    run_id = recorded(job, "partial", pages=7)
    outcome = job.settle(Report())
    assert (outcome.status, outcome.run_id) == ("partial", run_id)


def test_a_crawl_cancelled_at_its_hard_limit_is_recorded_as_killed_there(job: CrawlJob) -> None:
    run_id = recorded(job, "ok", pages=7)
    outcome = job.settle(Report(cancelled="still running 630s after its start"))
    assert outcome.status == "error"
    assert outcome.detail is not None and outcome.detail.startswith(
        "killed at the time limit (10m + 30s grace)"
    )
    with connect(job.database) as db:
        run = runs.latest(db, "caliber")
    assert run is not None and run.id == run_id and run.status == "error"
    assert run.counts["pages"] == 7  # what it did before the limit is kept


def test_a_worker_that_died_leaves_an_error_saying_why(job: CrawlJob) -> None:
    run_id = recorded(job, None)
    outcome = job.settle(Report(died="crawl process killed by signal SIGKILL"))
    assert (outcome.status, outcome.run_id) == ("error", run_id)
    assert outcome.detail == "crawl process killed by signal SIGKILL"
    with connect(job.database) as db:
        assert runs.finished(db, "caliber", 5) == [("error", outcome.detail)]


def test_a_crawl_the_daemon_interrupted_keeps_its_own_record(job: CrawlJob) -> None:
    job.interrupt("interrupted: the daemon stopped before the crawl finished")
    recorded(job, "partial")
    outcome = job.settle(Report(cancelled="the daemon is stopping"))
    assert (outcome.status, outcome.detail) == ("partial", None)


def test_a_crawl_the_daemon_interrupted_before_it_recorded_gets_the_reason(job: CrawlJob) -> None:
    job.interrupt("interrupted: the daemon stopped before the crawl finished")
    outcome = job.settle(Report(died="crawl process killed by signal SIGKILL"))
    assert outcome.detail == "interrupted: the daemon stopped before the crawl finished"


def test_the_site_is_locked_for_the_jobs_duration(job: CrawlJob) -> None:
    with pytest.raises(SiteBusy):
        SiteLock(job.database, "caliber").acquire()
