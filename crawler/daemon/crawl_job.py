"""One scheduled crawl of a site as the daemon sees it: the lock, the worker, the record.

The daemon takes the site's lock before anything starts (a site another process is crawling
is ``busy`` at once) and holds it until the crawl is over and recorded, so a one-off
`newsmon crawl` never overlaps it, whichever worker runs it. The lock file names the worker's
pid. The crawl records its own run; the daemon steps in only when it could not: a crawl
cancelled at its hard limit (``time_limit`` plus the kill grace) is recorded as killed there,
and a run that a dead or killed worker left 'running', or never wrote, is recorded as an error
saying why.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from pathlib import Path

from crawler.config import Site
from crawler.daemon.locks import SiteLock
from crawler.daemon.supervisor import Report, Supervisor
from crawler.daemon.worker import PATIENCE
from crawler.db import connect, runs

logger = logging.getLogger(__name__)

# Beyond a crawl's hard limit and the worker's patience: a worker that has not answered by
# then is wedged (a loop that never yields, a C call that never returns) and is killed.
ANSWER_MARGIN = 10.0


@dataclass(frozen=True)
class Outcome:
    """How one supervised crawl ended: its run's status (ok, partial, error) and error."""

    site: str
    status: str
    detail: str | None = None
    run_id: int | None = None


class CrawlJob:
    """A crawl of one site: ``lock``, then ``run`` in the same thread.

    ``interrupt`` may be called from another thread (the daemon shutting down).
    """

    def __init__(self, database: Path, site: Site, kill_grace: float) -> None:
        self.database = database
        self.site = site
        self.kill_grace = kill_grace
        self.lock = SiteLock(database, site.name)
        self.pid: int | None = None
        self.done = threading.Event()
        self._reason: str | None = None  # why the daemon ended it, if it did
        self._before = 0

    @property
    def hard_limit(self) -> float:
        return self.site.time_limit_seconds + self.kill_grace

    def lock_site(self) -> None:
        """Take the site's lock (SiteBusy if another process is crawling it)."""
        self.lock.acquire()
        try:
            with connect(self.database) as db:
                self._before = runs.last_id(db, self.site.name)
        except BaseException:
            self.lock.release()
            raise

    def run(self, supervisor: Supervisor, stopping: threading.Event, late: float) -> Outcome | None:
        """Crawl in a worker and return the recorded outcome; None if the daemon stopped before
        a worker took the crawl. Releases the lock."""
        try:
            dispatched = supervisor.dispatch(self.site.name, self.hard_limit, stopping)
            if dispatched is None:
                return None
            worker, future = dispatched
            self.pid = worker.pid
            self.lock.name_holder(worker.pid)
            logger.info(
                "%s: crawl started (pid %s, %.1fs after its planned time)",
                self.site.name,
                worker.pid,
                late,
            )
            try:
                report = future.result(timeout=self.hard_limit + PATIENCE + ANSWER_MARGIN)
            except FutureTimeout:
                self._reason = self._time_limit_reason()
                logger.error("%s: %s (the worker did not answer)", self.site.name, self._reason)
                worker.kill(f"killed: it did not end the crawl of {self.site.name} in time")
                report = future.result()  # resolved when the worker's socket closes
            return self.settle(report)
        finally:
            self.done.set()
            self.lock.release()

    def interrupt(self, reason: str) -> None:
        """The daemon is ending this crawl: ``reason`` is recorded if the run is left open."""
        self._reason = reason

    def _time_limit_reason(self) -> str:
        return (
            f"killed at the time limit ({self.site.time_limit} + {self.kill_grace:g}s grace): "
            "the crawl did not stop by itself"
        )

    def settle(self, report: Report) -> Outcome:
        """The run the crawl recorded, amended when the daemon's limits ended it; if it recorded
        none (or left it running), an error run saying why. The lock is still ours, so nobody
        else's run can be mistaken for it."""
        name = self.site.name
        at_limit = self._reason is None and (report.stuck or report.cancelled is not None)
        if at_limit:
            self._reason = self._time_limit_reason()
            logger.error("%s: %s", name, self._reason)
        with connect(self.database) as db:
            run = runs.latest(db, name, self._before)
            if run is not None and run.status != "running":
                if not at_limit:
                    return Outcome(name, run.status, run.error, run.id)
                runs.finish(db, run.id, "error", error=self._reason, amend=True)
                return Outcome(name, "error", self._reason, run.id)
            reason = self._reason or report.died or report.error or _unrecorded(report)
            closed = runs.close_interrupted(db, name, reason, after_id=self._before)
            run_id = closed[-1] if closed else runs.record_error(db, name, reason)
        return Outcome(name, "error", reason, run_id)


def _unrecorded(report: Report) -> str:
    if report.cancelled:
        return f"cancelled ({report.cancelled}) before recording its run"
    return "the crawl ended without recording its run"
