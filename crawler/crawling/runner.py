"""One-off crawls: run the sites' spiders in one Scrapy process and report each site's run.

Every site is crawled even if another fails; each outcome is read back from the ``runs``
table, which is the record of truth (the daemon and `newsmon status` read the same rows).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings
from twisted.python.failure import Failure

from crawler.config import Config, ConfigError, Site
from crawler.crawling.registry import spider_classes
from crawler.db import connect, runs
from crawler.garbage_collector import tune_for_throughput

logger = logging.getLogger(__name__)

# Seconds a crawl may run past its time limit (to finish in-flight downloads) before the
# process stops it hard; NEWSMON_HARD_STOP_GRACE overrides it.
HARD_STOP_GRACE = 20
TIME_LIMIT_ERROR = "stopped: still running past its time limit (in-flight downloads hung)"

# Limits an operator (or a test) may change from the environment, without editing settings:
# variable -> Scrapy setting. The daemon's crawls are `newsmon crawl` children and inherit
# the daemon's environment, so these apply to both.
ENV_SETTINGS = {
    "NEWSMON_DOWNLOAD_TIMEOUT": "DOWNLOAD_TIMEOUT",
    "NEWSMON_DOWNLOAD_MAXSIZE": "DOWNLOAD_MAXSIZE",
    "NEWSMON_DOWNLOAD_WARNSIZE": "DOWNLOAD_WARNSIZE",
    "NEWSMON_RETRY_TIMES": "RETRY_TIMES",
    "NEWSMON_REDIRECT_MAX_TIMES": "REDIRECT_MAX_TIMES",
    "NEWSMON_SITEMAP_MAXSIZE": "NEWSMON_SITEMAP_MAXSIZE",
    "NEWSMON_RETRY_AFTER_MAX": "NEWSMON_RETRY_AFTER_MAX",
    "NEWSMON_RETRY_429_DELAY": "NEWSMON_RETRY_429_DELAY",
    "NEWSMON_MAX_RUN_FETCHES": "NEWSMON_MAX_RUN_FETCHES",
    "NEWSMON_MAX_SOURCE_ITEMS": "NEWSMON_MAX_SOURCE_ITEMS",
    "NEWSMON_LAYOUTS": "NEWSMON_LAYOUTS",  # 0: every body by the generic extractor
}


def scrapy_settings(config: Config, overrides: dict[str, Any] | None = None) -> Settings:
    """newsmon's Scrapy settings for this configuration."""
    settings = Settings()
    settings.setmodule("crawler.crawling.settings", priority="project")
    settings.set("USER_AGENT", config.user_agent, priority="project")
    for key, value in environment_settings().items():
        settings.set(key, value, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def environment_settings(environ: Mapping[str, str] | None = None) -> dict[str, float]:
    """The Scrapy settings that ``ENV_SETTINGS`` variables set; a ConfigError naming the
    variable for a value that is not a non-negative number."""
    environ = os.environ if environ is None else environ
    found: dict[str, float] = {}
    for variable, setting in ENV_SETTINGS.items():
        raw = environ.get(variable, "").strip()
        if not raw:
            continue
        try:
            value = float(raw)
        except ValueError:
            value = -1.0
        if value < 0:
            raise ConfigError(f"{variable}: not a non-negative number: {raw!r}")
        # Sizes and counts are integers to Scrapy; a timeout may be fractional.
        found[setting] = value if setting == "DOWNLOAD_TIMEOUT" else int(value)
    return found


def hard_stop_grace(environ: Mapping[str, str] | None = None) -> float:
    """``HARD_STOP_GRACE``, or the NEWSMON_HARD_STOP_GRACE environment variable."""
    raw = (os.environ if environ is None else environ).get("NEWSMON_HARD_STOP_GRACE", "").strip()
    if not raw:
        return HARD_STOP_GRACE
    try:
        return max(float(raw), 0.0)
    except ValueError:
        raise ConfigError(f"NEWSMON_HARD_STOP_GRACE: not a number: {raw!r}") from None


def crawl_sites(
    config: Config, sites: Sequence[Site], overrides: dict[str, Any] | None = None
) -> list[runs.Run]:
    """Crawl ``sites`` concurrently in this process (once: Twisted's reactor cannot restart)."""
    # A process that ends with the crawl: fewer collections, at a little memory (a daemon's
    # long-lived workers keep the default, their memory stays flat).
    tune_for_throughput()
    settings = scrapy_settings(config, overrides)
    grace = hard_stop_grace()  # a bad value fails before anything starts
    # The CLI configures logging; Scrapy's own root handler would print every line twice.
    settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
    process = CrawlerProcess(settings)
    logging.root.setLevel(settings.get("LOG_LEVEL"))  # Scrapy resets it to NOTSET
    started: dict[str, int] = {}
    with connect(config.database) as db:
        for site in sites:
            started[site.name] = runs.last_id(db, site.name)
            deferred = process.crawl(spider_classes()[site.spider], site=site, config=config)
            deferred.addErrback(_record_crash, config, site)
        limit = max(site.time_limit_seconds for site in sites) + grace
        timer = _arm_hard_stop(config, sites, limit)
        process.start()
        timer.cancel()
        return [_result(db, site.name, started[site.name]) for site in sites]


def _arm_hard_stop(config: Config, sites: Sequence[Site], seconds: float) -> threading.Timer:
    """End the process if crawls outlive their time limits.

    A spider closing at its limit still waits for in-flight downloads (timeouts, retries), and
    Scrapy's shutdown waits for that too, so a hanging server can stretch a run to minutes.
    Past the grace, the runs still open are recorded as errors and the process exits at once
    (exit status 1, as for any failed site); locks die with it, queued alerts stay queued.
    """

    def stop() -> None:
        logger.error("crawl still running %.0f s after its start; stopping it", seconds)
        with connect(config.database) as db:
            for site in sites:
                if runs.close_interrupted(db, site.name, TIME_LIMIT_ERROR):
                    print(f"{site.name}: error  {TIME_LIMIT_ERROR}", flush=True)
        _kill_descendants()
        os._exit(1)

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    return timer


def _kill_descendants() -> None:
    """SIGKILL every process this one started, and theirs (the extraction pool's fork server
    and workers). ``os._exit`` ends only this process: they would live on for good, idle,
    holding our stdout and stderr open (a caller reading them to the end would hang too)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        children.setdefault(ppid, []).append(int(stat.parent.name))
    todo = list(children.get(os.getpid(), []))
    while todo:
        pid = todo.pop()
        todo += children.get(pid, [])
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def _record_crash(failure: Failure, config: Config, site: Site) -> None:
    """A spider that could not start or crashed still leaves a run row saying why."""
    logger.error("crawl of %s crashed: %s", site.name, failure.getErrorMessage())
    detail = "".join(traceback.format_exception(failure.type, failure.value, failure.tb))
    with connect(config.database) as db:
        runs.close_interrupted(db, site.name)
        runs.record_error(db, site.name, f"crawl crashed: {failure.getErrorMessage()}\n{detail}")


def _result(db: Any, site: str, after_id: int) -> runs.Run:
    """The run this process recorded for ``site``; one left running is closed as an error."""
    run = runs.latest(db, site, after_id)
    if run is None:
        return runs.Run(0, site, "error", "", "the crawl did not start (see the log)", {})
    if run.status == "running":
        error = "the crawl stopped before recording its end"
        runs.finish(db, run.id, "error", error=error)
        return runs.latest(db, site, after_id) or run
    return run
