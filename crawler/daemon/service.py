"""`newsmon run`: every site on its schedule, alerts delivered and retried, for months.

APScheduler's BackgroundScheduler fires one job per site; each run takes the site's lock and
crawls in one of the long-lived worker processes (crawler.daemon.crawl_job,
crawler.daemon.supervisor), then the site's health is re-assessed (crawler.daemon.health) and
a delivery pass is asked for. A delivery thread sends alerts when asked, on a timer (retries),
at each scheduled digest time, and once at start, which sends a digest whose time passed while
the daemon was down (crawler.alerts.digests); the main thread only waits for signals.
SIGTERM/SIGINT stop scheduling, give running crawls a grace period, end the rest, deliver once
more and exit 0; SIGHUP reloads the configuration (a bad file is logged and the running one
kept).
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType
from typing import Any

import sqlite_utils
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.schedulers.background import BackgroundScheduler

from crawler.alerts.delivery import deliver_pending
from crawler.alerts.digests import schedule_of
from crawler.config import Config, Site, load_config
from crawler.crawling.registry import check_spiders
from crawler.daemon import health, schedule
from crawler.daemon.crawl_job import CrawlJob, Outcome
from crawler.daemon.locks import SiteBusy
from crawler.daemon.supervisor import Supervisor, WorkerOptions
from crawler.db import connect
from crawler.outputs.feed import refresh_feed

logger = logging.getLogger(__name__)

# After the stop grace, crawls are cancelled and get this share of the grace (at most
# TERM_PATIENCE seconds) to record their run before their workers are killed; the crawls
# themselves get the rest.
TERM_PATIENCE = 5.0
# Time for supervising threads to record what their crawls did, once the crawls are gone.
RECORD_TIMEOUT = 30.0


@dataclass(frozen=True)
class DaemonOptions:
    """Timings of the daemon, in seconds."""

    stop_grace: float = 20.0  # SIGTERM/SIGINT: how long until running crawls are ended
    kill_grace: float = 30.0  # a crawl is killed this long after its site's time_limit
    deliver_every: float = 60.0  # delivery passes (retries) besides the one after each crawl
    workers: WorkerOptions = WorkerOptions()  # the crawl worker processes


class PlannedTimes(ThreadPoolExecutor):
    """APScheduler's thread pool, noting when each job was due: a run's lateness is its start
    against that time (the job itself only learns when it runs)."""

    def __init__(self, max_workers: int) -> None:
        super().__init__(max_workers)
        self.planned: dict[str, datetime] = {}

    def submit_job(self, job: Job, run_times: list[datetime]) -> None:
        self.planned[job.id] = run_times[-1]
        super().submit_job(job, run_times)


DIGEST_JOB = "digest:"


def job_id(site: str) -> str:
    """The scheduler job of a site's crawls."""
    return f"crawl:{site}"


class Daemon:
    """The scheduler process; ``run()`` blocks until SIGTERM or SIGINT and returns 0."""

    def __init__(self, config: Config, log_level: str, options: DaemonOptions | None = None):
        if config.path is None:
            raise ValueError("the daemon needs a configuration read from a file")
        self.config = config
        self.config_path = config.path.resolve()  # children may not share our idea of cwd
        self.log_level = log_level
        self.options = options or DaemonOptions()
        self.executor = PlannedTimes(max(16, 2 * len(config.sites) + 2))
        self.scheduler = BackgroundScheduler(
            executors={"default": self.executor},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        # Workers start with the first crawl: a daemon object that never crawls starts none.
        self.supervisor = Supervisor(config, log_level, self.options.workers)
        self._stop = threading.Event()
        self._reload = threading.Event()
        self._wake = threading.Event()
        self._state = threading.Condition()
        self._jobs: set[CrawlJob] = set()
        self._scheduled: dict[str, tuple[object, ...]] = {}
        self._deliver_wanted = threading.Event()
        self._deliverer = threading.Thread(target=self._delivery_loop, name="deliver", daemon=True)
        if logging.root.level > logging.DEBUG:
            # Our own lines say when each crawl starts and ends; APScheduler's two per run would
            # only bury them.
            logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)

    # --- lifecycle --------------------------------------------------------------------------------

    def run(self) -> int:
        """Schedule every enabled site and serve until told to stop; returns the exit status."""
        previous = self._install_signals()
        try:
            self.scheduler.start()
            self._schedule_sites()
            self._schedule_digests()
            self._deliver_wanted.set()  # a first pass at once: catch up what is due
            self._deliverer.start()
            logger.info(
                "newsmon run: config %s, database %s, %d site(s) scheduled",
                self.config_path,
                self.config.database,
                len(self._scheduled),
            )
            self._serve()
            self._shutdown()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 0

    def _install_signals(self) -> dict[signal.Signals, Any]:
        previous: dict[signal.Signals, Any] = {}
        for sig, handler in (
            (signal.SIGTERM, self._on_stop),
            (signal.SIGINT, self._on_stop),
            (signal.SIGHUP, self._on_reload),
        ):
            previous[sig] = signal.signal(sig, handler)
        return previous

    def _on_stop(self, signum: int, frame: FrameType | None) -> None:
        self._stop.set()
        self._wake.set()

    def _on_reload(self, signum: int, frame: FrameType | None) -> None:
        self._reload.set()
        self._wake.set()

    def _serve(self) -> None:
        """The main thread's loop: signal handlers set flags, the work happens here."""
        while not self._stop.is_set():
            self._wake.wait(timeout=5)
            self._wake.clear()
            if self._reload.is_set() and not self._stop.is_set():
                self._reload.clear()
                self.reload()

    def _shutdown(self) -> None:
        """Stop scheduling, let crawls finish within the grace, end the rest (cancelled by their
        workers, then the workers killed), wait for their runs to be recorded, deliver once
        more."""
        self.scheduler.pause()
        patience = min(TERM_PATIENCE, self.options.stop_grace / 4)
        with self._state:
            running = len(self._jobs)
        logger.info(
            "stopping: no new crawls; %d running crawl(s) get %gs to finish",
            running,
            self.options.stop_grace - patience,
        )
        if not self._wait_jobs(self.options.stop_grace - patience):
            self._end_jobs()
        self.supervisor.stop()
        if not self.supervisor.join(patience):
            self.supervisor.kill("killed: the daemon stopped before its crawls finished")
        recorded = self._wait_jobs(RECORD_TIMEOUT) and self.supervisor.join(RECORD_TIMEOUT)
        if not recorded:
            logger.error("stopping: crawl supervisors did not finish; exiting anyway")
        self.scheduler.shutdown(wait=recorded)
        self._deliver_wanted.set()  # wakes the delivery thread, which sees the stop and ends
        self._deliverer.join(timeout=RECORD_TIMEOUT)
        self._deliver_once()
        self._unpublish()
        logger.info("newsmon run: stopped")

    def _wait_jobs(self, timeout: float) -> bool:
        with self._state:
            return self._state.wait_for(lambda: not self._jobs, max(0.0, timeout))

    def _end_jobs(self) -> None:
        with self._state:
            jobs = list(self._jobs)
        for job in jobs:
            logger.warning(
                "%s: ending the crawl (pid %s): the daemon is stopping", job.site.name, job.pid
            )
            job.interrupt("interrupted: the daemon stopped before the crawl finished")

    # --- configuration ----------------------------------------------------------------------------

    def reload(self) -> None:
        """Re-read the configuration and reschedule; a bad file keeps the running one."""
        try:
            new = load_config(self.config_path)
            check_spiders(new)
        except Exception as exc:  # any failure to load must leave the daemon as it was
            logger.error("reload: keeping the running configuration: %s", exc)
            return
        self.config = new
        self.supervisor.configure(new)
        self._schedule_sites()
        self._schedule_digests()
        logger.info(
            "reload: %s read again, %d site(s) scheduled", self.config_path, len(self._scheduled)
        )

    def _schedule_sites(self) -> None:
        """Add, replace or remove site jobs to match the configuration; a site whose schedule
        did not change keeps its job and its next run."""
        wanted = {s.name: s for s in self.config.sites if s.enabled}
        gone = [name for name in self._scheduled if name not in wanted]
        for name in gone:
            self.scheduler.remove_job(job_id(name))
            del self._scheduled[name]
            logger.info("%s: no longer scheduled", name)
        with connect(self.config.database) as db:
            if gone:
                schedule.unpublish(db, gone)
            for site in wanted.values():
                key = (site.interval, site.cron)
                if self._scheduled.get(site.name) != key:
                    self._add_job(db, site)
                    self._scheduled[site.name] = key

    def _add_job(self, db: sqlite_utils.Database, site: Site) -> None:
        now = datetime.now(UTC)
        first = schedule.first_run(site, schedule.last_started(db, site.name), now)
        if first <= now:  # due (never run, or missed while down): spread the catch-ups
            first = now + schedule.phase(site)
        self.scheduler.add_job(
            self._crawl_job,
            schedule.trigger_for(site, first),
            args=[site.name],
            id=job_id(site.name),
            name=f"crawl {site.name}",
            next_run_time=first,
            misfire_grace_time=schedule.misfire_grace(site),
            replace_existing=True,
        )
        schedule.publish(db, site.name, first)
        logger.info(
            "%s: scheduled (%s), next run %s",
            site.name,
            f"cron {site.cron}" if site.cron else f"every {site.interval}",
            first.isoformat(timespec="seconds"),
        )

    def _schedule_digests(self) -> None:
        """A wake-up for the delivery thread at each scheduled digest time; the pass then
        finds the alerts held for it due."""
        for job in self.scheduler.get_jobs():
            if job.id.startswith(DIGEST_JOB):
                job.remove()
        for name, channel in self.config.alerts.named.items():
            digest = schedule_of(channel)
            if digest is None:
                continue
            job = self.scheduler.add_job(
                self.deliver,
                digest.trigger,
                id=DIGEST_JOB + name,
                name=f"digest {name}",
                misfire_grace_time=3600,
            )
            logger.info(
                "%s: digest scheduled (%s), next at %s",
                name,
                digest,
                job.next_run_time.isoformat(timespec="minutes") if job.next_run_time else "never",
            )

    # --- one crawl --------------------------------------------------------------------------------

    def _crawl_job(self, name: str) -> None:
        """A scheduled run of one site: crawl in a worker, then health and delivery."""
        planned = self.executor.planned.pop(job_id(name), None)
        late = (datetime.now(UTC) - planned).total_seconds() if planned else 0.0
        config = self.config
        site = next((s for s in config.sites if s.name == name and s.enabled), None)
        if site is None:
            return  # removed by a reload after this run was already due
        job = CrawlJob(config.database, site, self.options.kill_grace)
        with self._state:
            # Locked under the state lock so that shutdown sees every crawl there is.
            if self._stop.is_set():
                return
            try:
                job.lock_site()
            except SiteBusy as exc:
                logger.warning("%s: skipped: %s", name, exc)
                return
            self._jobs.add(job)
        try:
            self._publish(name)
            outcome = job.run(self.supervisor, self._stop, late)
            if outcome is not None:
                self._report(outcome)
                self._assess(config, name)
                refresh_feed(config)
        except Exception:  # the daemon outlives any one run's bookkeeping
            logger.exception("%s: supervising the crawl failed", name)
        finally:
            with self._state:
                self._jobs.discard(job)
                self._state.notify_all()
        if not self._stop.is_set():
            self._publish(name)
            self.deliver()

    def _report(self, outcome: Outcome) -> None:
        name = outcome.site
        if outcome.status == "error":
            first_line = (outcome.detail or "no error recorded").splitlines()[0]
            logger.error("%s: run %s failed: %s", name, outcome.run_id, first_line)
        else:
            logger.info("%s: run %s %s", name, outcome.run_id, outcome.status)

    def _assess(self, config: Config, name: str) -> None:
        with connect(config.database) as db:
            health.update(db, config, name)

    def _publish(self, name: str) -> None:
        """Tell `newsmon status` when this site runs next."""
        try:
            job = self.scheduler.get_job(job_id(name))
            with connect(self.config.database) as db:
                schedule.publish(db, name, job.next_run_time if job else None)
        except Exception:  # status display only: never worth failing (or not watching) a run
            logger.exception("%s: could not publish the next run", name)

    def _unpublish(self) -> None:
        with connect(self.config.database) as db:
            schedule.unpublish(db)

    # --- alert delivery ---------------------------------------------------------------------------

    def deliver(self) -> None:
        """Ask for a delivery pass now (after the one in progress, if any)."""
        self._deliver_wanted.set()

    def _delivery_loop(self) -> None:
        """Deliver when asked and every ``deliver_every`` seconds, in a thread of its own so
        that a slow channel never holds up a crawl job (and with it the site's next run)."""
        while not self._stop.is_set():
            self._deliver_wanted.wait(self.options.deliver_every)
            self._deliver_wanted.clear()
            if not self._stop.is_set():
                self._deliver_once()

    def _deliver_once(self) -> None:
        config = self.config
        try:
            with connect(config.database) as db:
                report = deliver_pending(db, config)
        except Exception:  # a delivery bug must not stop the crawling
            logger.exception("alert delivery failed")
            return
        if report:
            logger.info("%s", report)
