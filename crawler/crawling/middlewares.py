"""Downloader middlewares of newsmon: honouring a server's request to slow down, story pages
decompressed where they are extracted, requests kept to the site's hosts.

Scrapy's RetryMiddleware retries a 429 or 503 at once, which is exactly what a server that
answered "Retry-After: 30" asked us not to do. This middleware sits just before it (its
``process_response`` runs first) and waits the time the server asked for, capped by
``NEWSMON_RETRY_AFTER_MAX`` seconds, before handing the response on to be retried. A 429
without the header waits ``NEWSMON_RETRY_429_DELAY`` seconds, doubled on every retry. Nothing
is delayed when no retry will follow (retries used up, ``dont_retry``, not a retried code), and
a crawl cancelled by its runtime (``crawler.crawling.downloads``) stops waiting at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import zlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from scrapy import Spider
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.httpcompression import HttpCompressionMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Request, Response
from scrapy.settings import BaseSettings

from crawler.crawling.downloads import CANCEL_DOWNLOADS, DownloadCancelled
from crawler.extract.html import INFLATABLE, inflated_head

logger = logging.getLogger(__name__)
SLOW_DOWN = (429, 503)

# Request meta: the response's body may stay compressed (see StoryCompressionMiddleware).
KEEP_COMPRESSED = "newsmon_keep_compressed"
# How much of a page's start is inflated to look for a meta refresh, which Scrapy's
# MetaRefreshMiddleware looks for in the first 4,096 characters: 4,096 bytes when they are
# ASCII, else up to four bytes a character.
_HEAD_CHARS = 4096
_META_REFRESH_RE = re.compile(rb"<meta[^>]+http-equiv\s*=\s*[\"']?\s*refresh", re.IGNORECASE)


class StoryCompressionMiddleware(HttpCompressionMiddleware):
    """Scrapy's HttpCompressionMiddleware, except that a story page in gzip or deflate
    (``KEEP_COMPRESSED`` in its request's meta) stays compressed: the extraction worker
    decompresses it, within DOWNLOAD_MAXSIZE, along with the rest of the page's CPU work.
    Inflating a story page is a sixth of what the reactor's thread spends on it, and the
    compressed page is a quarter of the bytes to send to the worker.

    The page's start is inflated here all the same: a page with a meta refresh (which
    Scrapy's MetaRefreshMiddleware follows) or one whose start does not inflate is
    decompressed here as before, and fails here as before. A kept page goes on as a plain
    ``Response``, so that no middleware reads its compressed bytes as text.
    """

    def process_response(
        self, request: Request, response: Response, spider: Spider | None = None
    ) -> Request | Response:
        # ``spider``: Scrapy's signature, which no longer passes one.
        if request.meta.get(KEEP_COMPRESSED) and self._keeps(request, response):
            if type(response) is Response:
                return response
            # A plain Response of the same answer (replace() would pass a TextResponse's
            # encoding along, which a Response does not take).
            return Response(**{name: getattr(response, name) for name in Response.attributes})
        return super().process_response(request, response)

    @staticmethod
    def _keeps(request: Request, response: Response) -> bool:
        encodings = response.headers.getlist("Content-Encoding")
        if request.method == "HEAD" or len(encodings) != 1:
            return False
        # Content-Encodings an extraction worker undoes (crawler.extract.html.decompress).
        encoding = encodings[0].decode("latin-1").strip().lower()
        if encoding not in INFLATABLE:
            return False
        try:
            head = inflated_head(response.body, encoding, _HEAD_CHARS)
            if not head.isascii():
                head = inflated_head(response.body, encoding, 4 * _HEAD_CHARS)
        except zlib.error:
            return False
        return not _META_REFRESH_RE.search(head)


class RetryAfterMiddleware:
    """Delays the retry of a 429/503 answer by its Retry-After (capped)."""

    def __init__(self, settings: BaseSettings) -> None:
        self.cap = settings.getfloat("NEWSMON_RETRY_AFTER_MAX", 120)
        self.default_429 = settings.getfloat("NEWSMON_RETRY_429_DELAY", 5)
        self.max_retries = settings.getint("RETRY_TIMES")
        self.retried = {int(c) for c in settings.getlist("RETRY_HTTP_CODES")} & set(SLOW_DOWN)
        self.cancelled = asyncio.Event()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryAfterMiddleware:
        if not crawler.settings.getbool("RETRY_ENABLED"):
            raise NotConfigured("retries are off")
        middleware = cls(crawler.settings)
        crawler.signals.connect(middleware.cancelled.set, signal=CANCEL_DOWNLOADS)
        return middleware

    async def process_response(self, request: Request, response: Response) -> Response:
        delay = self.delay(request, response)
        if delay > 0:
            logger.info("%s answered %s: retrying in %.0f s", request.url, response.status, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.cancelled.wait(), delay)
        if self.cancelled.is_set():
            raise DownloadCancelled(f"the crawl was stopped: {request.url}")
        return response

    def delay(self, request: Request, response: Response) -> float:
        """Seconds to wait before the retry of this answer (0: no wait, or no retry)."""
        if response.status not in self.retried or request.meta.get("dont_retry"):
            return 0
        retries = request.meta.get("retry_times", 0)
        if retries >= request.meta.get("max_retry_times", self.max_retries):
            return 0
        header = response.headers.get("Retry-After")
        seconds = retry_after_seconds(header.decode("latin-1")) if header else None
        if seconds is None:
            seconds = self.default_429 * 2**retries if response.status == 429 else 0
        return min(seconds, self.cap)


def retry_after_seconds(value: str, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None if unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class SiteHostsMiddleware:
    """Requests go only to the spider's hosts (``allowed_domains``), redirects included.

    Scrapy's own offsite middleware lets ``dont_filter`` requests through, and newsmon's story
    requests carry ``dont_filter`` (it deduplicates URLs itself), so a story page redirecting
    to another host would otherwise be followed there.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> SiteHostsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        allowed = getattr(self.crawler.spider, "allowed_domains", None)
        host = (urlsplit(request.url).hostname or "").lower()
        if allowed and not any(host == d or host.endswith("." + d) for d in allowed):
            logger.warning("not following %s: %s is not this site's host", request.url, host)
            raise IgnoreRequest(f"off-site host {host}")
