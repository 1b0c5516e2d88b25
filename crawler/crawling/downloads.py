"""HTTP downloads that a crawl runtime can cancel.

A spider closing at its time limit still waits for its downloads in flight, and a server that
hangs holds them for DOWNLOAD_TIMEOUT per attempt, retries included. A process per crawl could
simply be killed; crawls that share one process (the daemon's workers,
``crawler.crawling.runtime``) must stop one crawl without touching the others. This handler is
Scrapy's own HTTP/1.1 handler that also listens for ``CANCEL_DOWNLOADS`` on its crawler's
signals: every download in flight then fails at once (its connection is dropped), and every
later one fails before it starts, so the crawl closes within moments.

"Later" includes requests that were already past the engine: the ones robots.txt held back
(released all at once when its fetch is cancelled) and the ones waiting in the downloader's
queues for a download delay or AutoThrottle's. Left alone, each would wait its turn, seconds
apart, only to fail in the handler; a crawl with hundreds of them would outlive its hard limit
by minutes. ``CancelledCrawlMiddleware``, the last downloader middleware, fails them before
they queue, and empties the queues when the signal comes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler
from scrapy.exceptions import IgnoreRequest
from twisted.python.failure import Failure

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

# A crawl-specific signal (Scrapy signals are any unique object): send it on a crawler's
# signals to cancel that crawler's downloads.
CANCEL_DOWNLOADS = object()


class DownloadCancelled(IgnoreRequest):
    """The crawl was stopped while this download was in flight or waiting."""


class CancellableHTTPDownloadHandler(HTTP11DownloadHandler):
    """``HTTP11DownloadHandler`` whose downloads ``CANCEL_DOWNLOADS`` ends; see the module doc."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self._in_flight: set[asyncio.Future[Response]] = set()
        self._cancelled = False
        crawler.signals.connect(self.cancel_all, signal=CANCEL_DOWNLOADS)

    async def download_request(self, request: Request) -> Response:
        if self._cancelled:
            raise DownloadCancelled(f"the crawl was stopped: {request.url}")
        # A task of its own: cancelling it drops the connection (the Deferred underneath is
        # cancelled with it) without cancelling Scrapy's task that awaits the download.
        download = asyncio.ensure_future(super().download_request(request))
        self._in_flight.add(download)
        try:
            return await download
        except asyncio.CancelledError:
            if not self._cancelled:
                raise  # our caller was cancelled, not the download
            raise DownloadCancelled(f"the crawl was stopped: {request.url}") from None
        finally:
            self._in_flight.discard(download)

    def cancel_all(self) -> None:
        """Fail every download of this crawl, now and from now on."""
        self._cancelled = True
        if self._in_flight:
            logger.info("cancelling %d download(s) in flight", len(self._in_flight))
        for download in list(self._in_flight):
            download.cancel()


class CancelledCrawlMiddleware:
    """The last downloader middleware: once ``CANCEL_DOWNLOADS`` came, requests fail here
    instead of queueing for the downloader, and those already queued fail at once."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.cancelled = False
        crawler.signals.connect(self.cancel, signal=CANCEL_DOWNLOADS)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CancelledCrawlMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if self.cancelled:
            raise DownloadCancelled(f"the crawl was stopped: {request.url}")

    def cancel(self) -> None:
        self.cancelled = True
        engine = self.crawler.engine
        dropped = 0
        for slot in list(getattr(getattr(engine, "downloader", None), "slots", {}).values()):
            slot.close()  # its pending wake-up only; nothing is left for it to do
            while slot.queue:
                request, waiting = slot.queue.popleft()
                dropped += 1
                failure = Failure(DownloadCancelled(f"the crawl was stopped: {request.url}"))
                waiting.errback(failure)
        if dropped:
            logger.info("cancelling %d queued download(s)", dropped)
