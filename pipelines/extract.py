"""The extraction pipeline: a fetched page into story fields, off the reactor's thread.

The extraction itself (``extract_page``, ``SiteRules``) lives in ``crawler.extract.article``,
which loads no Scrapy, so that the pool's worker processes stay small.

Pages go to the process's shared ``ExtractPool`` (``crawler.extract.pool``) as (html, url, rules)
and come back as small ``Extracted`` results; with ``NEWSMON_EXTRACT_WORKERS = 0`` (the
default on a single core) they are extracted in the crawl's own process.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.settings import BaseSettings

from crawler.extract import pool
from crawler.extract.article import Extracted, SiteRules, extract_page
from crawler.story import Story

logger = logging.getLogger(__name__)


def extract_workers(settings: BaseSettings) -> int:
    """Worker processes for extraction: NEWSMON_EXTRACT_WORKERS, unset (None) meaning one per
    core, 0 meaning in-process."""
    value = settings.get("NEWSMON_EXTRACT_WORKERS")
    if value is None or value == "":
        return pool.default_workers()
    return max(int(value), 0)


class ExtractPipeline:
    """Turns a fetched page into story fields; drops pages that are not stories."""

    def __init__(self, crawler: Crawler, workers: int, pending_per_worker: int) -> None:
        self.crawler = crawler
        self.workers = workers
        self.max_pending = workers * pending_per_worker
        self.pool: pool.ExtractPool | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        settings = crawler.settings
        return cls(
            crawler, extract_workers(settings), settings.getint("NEWSMON_EXTRACT_PENDING", 4)
        )

    def open_spider(self) -> None:
        if not self.workers:
            logger.info("extracting pages in the crawl process")
            return
        # The workers start with the first page: a run that fetches no story (everything
        # unchanged) costs no processes.
        logger.info("extracting pages in %d worker processes", self.workers)
        self.pool = pool.acquire(self.workers, self.max_pending)

    async def close_spider(self) -> None:
        if self.pool is not None:
            await pool.release(self.pool)
            self.pool = None

    async def process_item(self, item: Story) -> Story:
        if item.not_modified:
            return item
        spider: Any = self.crawler.spider
        trusted = getattr(spider, "trust_pattern", False)
        found = await self._extract(item, getattr(spider, "rules", None), not trusted)
        if not found.is_story and not trusted:
            reason = "the page does not say it is an article"
            raise DropItem(f"not a story ({reason}): {item.url}", log_level="INFO")
        if not found.title or not found.text:
            raise DropItem(f"not a story (no title or body): {item.url}", log_level="INFO")
        item.title, item.text = found.title, found.text
        item.author = found.author or item.hints.get("author")
        item.published = found.published or item.hints.get("published")
        item.modified = found.modified
        item.language = found.language or item.hints.get("language")
        item.description = found.description
        if found.canonical:
            item.hints["canonical"] = found.canonical
        if found.fingerprints is not None:
            item.content_hash = found.fingerprints.content_hash
            item.body_hash = found.fingerprints.body_hash
            item.signature = list(found.fingerprints.signature)
        return item

    async def _extract(self, item: Story, rules: SiteRules | None, stories_only: bool) -> Extracted:
        # The page is not needed past this point; dropping it keeps memory flat.
        html, item.html = item.html, ""
        if self.pool is None:
            return extract_page(html, item.url, rules, stories_only)
        try:
            return await self.pool.run(extract_page, html, item.url, rules, stories_only)
        except pool.WorkerCrashed as exc:
            spider: Any = self.crawler.spider
            spider.page_failures = getattr(spider, "page_failures", 0) + 1
            raise DropItem(f"extraction failed ({exc}): {item.url}", log_level="ERROR") from None
