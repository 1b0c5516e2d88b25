"""Many site crawls in one long-lived reactor: the runtime of the daemon's crawl workers.

A process per crawl pays for Python, Scrapy, a reactor and an extraction pool on every run:
about 3 CPU seconds, against a few milliseconds for the conditional GETs of a site that did not
change. ``CrawlRuntime`` keeps all of that alive and runs each crawl as one more Scrapy crawler
in the same reactor (``AsyncCrawlerRunner``), side by side with the others.

What the process boundary gave, kept without it:

- **Time limits.** A spider stops itself at its site's ``time_limit`` (``spiders.base``), but
  closing waits for downloads in flight. At the hard limit (``time_limit`` plus the daemon's
  kill grace) the runtime cancels the crawl: its downloads fail at once
  (``crawler.crawling.downloads``) and the engine stops. A crawl that still has not ended
  ``patience`` seconds later is reported stuck, and the worker's supervisor kills the process
  (``crawler.daemon.supervisor``).
- **Failures stay with their crawl.** A crawl that raises ends as an ``Ended`` with the error,
  for the caller to record; the others go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass

from scrapy.crawler import AsyncCrawlerRunner, Crawler
from scrapy.settings import Settings

from crawler.config import Config, Site
from crawler.crawling.downloads import CANCEL_DOWNLOADS
from crawler.crawling.registry import spider_classes

logger = logging.getLogger(__name__)

REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"


@dataclass
class Ended:
    """How one crawl ended, besides the run it recorded: cancelled by the runtime (``forced``,
    with why) and the exception it raised, if any."""

    forced: str | None = None
    error: str | None = None


class CrawlRuntime:
    """Runs crawls in the running asyncio reactor; ``crawl`` may be called any number of times,
    concurrently."""

    def __init__(self, settings: Settings, patience: float = 5.0) -> None:
        self.runner = AsyncCrawlerRunner(settings)
        self.patience = patience
        self._running: dict[Crawler, Ended] = {}

    @property
    def running(self) -> int:
        return len(self._running)

    def configure(self, settings: Settings) -> None:
        """Settings for the crawls started from now on (a reloaded configuration)."""
        self.runner = AsyncCrawlerRunner(settings)

    async def crawl(
        self,
        config: Config,
        site: Site,
        hard_limit: float,
        on_stuck: Callable[[], None] = lambda: None,
    ) -> Ended:
        """Crawl ``site`` to the end; cancel it ``hard_limit`` seconds after its start."""
        crawler = self.runner.create_crawler(spider_classes()[site.spider])
        ended = self._running[crawler] = Ended()
        loop = asyncio.get_running_loop()
        reason = f"still running {hard_limit:g}s after its start"
        timer = loop.call_later(hard_limit, self.cancel, crawler, reason, on_stuck)
        try:
            await self.runner.crawl(crawler, site=site, config=config)
        except Exception as exc:  # the crawl's failure is its own, never the runtime's
            logger.error("%s: the crawl crashed: %s", site.name, exc)
            detail = "".join(traceback.format_exception(exc))
            ended.error = f"crawl crashed: {exc}\n{detail}"
        finally:
            timer.cancel()
            del self._running[crawler]
        return ended

    def cancel(
        self, crawler: Crawler, reason: str, on_stuck: Callable[[], None] = lambda: None
    ) -> None:
        """Stop a crawl now: fail its downloads and stop its engine. If it has not ended after
        ``patience`` seconds, ``on_stuck`` is called (the caller then ends the process)."""
        ended = self._running.get(crawler)
        if ended is None or ended.forced:
            return
        ended.forced = reason
        logger.warning("%s: cancelling the crawl: %s", _name(crawler), reason)
        crawler.signals.send_catch_log(signal=CANCEL_DOWNLOADS)
        asyncio.ensure_future(self._stop(crawler))
        asyncio.get_running_loop().call_later(self.patience, self._check, crawler, on_stuck)

    def cancel_all(self, reason: str, on_stuck: Callable[[], None] = lambda: None) -> None:
        for crawler in list(self._running):
            self.cancel(crawler, reason, on_stuck)

    async def _stop(self, crawler: Crawler) -> None:
        # RuntimeError: the engine was stopping or not started, so there is nothing to stop.
        with contextlib.suppress(RuntimeError):
            await crawler.stop_async()

    def _check(self, crawler: Crawler, on_stuck: Callable[[], None]) -> None:
        if crawler in self._running:
            name = _name(crawler)
            logger.error("%s: still running %gs after it was cancelled", name, self.patience)
            on_stuck()


def _name(crawler: Crawler) -> str:
    site = getattr(crawler.spider, "site", None)
    return str(getattr(site, "name", None) or getattr(crawler.spidercls, "name", "?"))
