"""Storage: stories saved in batches, one transaction per batch, each outcome counted in the
crawl's stats (the run's row is written by ``crawler.crawling.run_record``).

Matching and the queueing of alerts happen inside the same transaction as the story
(``crawler.db.stories``), so a killed crawl leaves either all of a story or none of it; the
watches run once per batch, not once per story.

Every database call runs on one writer thread of the pipeline's own, which also owns the
connection (SQLite connections stay on the thread that opened them). A batch costs ~1 ms of
CPU per story plus the commit; on the reactor's thread that would stall every download in
flight, and AutoThrottle reads the stall as a slow site. SQLite releases the GIL while it
works, so the writer mostly runs beside the reactor, not instead of it. Batches are written
in the order they fill.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlite_utils
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.crawling import run_record as record
from crawler.db import connect, transaction
from crawler.db.stories import SaveContext, Saved, save_stories
from crawler.story import Story

logger = logging.getLogger(__name__)

T = TypeVar("T")


class StorePipeline:
    """Writes stories to SQLite; counts new, changed, unchanged and duplicate stories."""

    def __init__(self, crawler: Crawler, batch_size: int) -> None:
        self.crawler = crawler
        self.batch_size = batch_size
        self.batch: list[Story] = []
        self.db: sqlite_utils.Database | None = None
        self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsmon-store")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        if not crawler.settings.getbool("NEWSMON_STORE_ENABLED", True):
            raise NotConfigured("storage disabled")
        return cls(crawler, crawler.settings.getint("NEWSMON_BATCH_SIZE", 50))

    async def open_spider(self) -> None:
        spider: Any = self.crawler.spider
        config = spider.config
        self.ctx = SaveContext(
            watches=[w.matcher() for w in config.watches],
            channels=list(config.alerts.named),
            routes=config.routes(),
        )
        await self._on_writer(self._open, spider.config.database)

    async def process_item(self, item: Story) -> Story:
        self.batch.append(item)
        if len(self.batch) >= self.batch_size:
            await self.flush()
        return item

    async def flush(self) -> None:
        """Save the pending batch in one transaction; a failed batch is counted, not fatal."""
        batch, self.batch = self.batch, []
        if not batch:
            return
        outcomes = await self._on_writer(self._save, batch)
        stats = self.crawler.stats
        if outcomes is None:
            stats.inc_value(record.outcome_key(record.STORE_FAILED), len(batch))
            return
        for saved in outcomes:
            stats.inc_value(record.stored_key(saved.outcome))
            stats.inc_value(record.PREFIX + "matches", len(saved.matched))

    async def close_spider(self) -> None:
        try:
            await self.flush()
            await self._on_writer(self._close)
        finally:
            self.writer.shutdown(wait=False)

    # --- on the writer thread ----------------------------------------------------------------

    async def _on_writer(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.wrap_future(self.writer.submit(fn, *args, **kwargs))

    def _open(self, database: Any) -> None:
        self.db = connect(database)

    def _save(self, batch: Sequence[Story]) -> list[Saved] | None:
        assert self.db is not None
        try:
            with transaction(self.db):
                return save_stories(self.db, batch, self.ctx)
        except Exception:
            logger.exception("could not save %d stories of %s", len(batch), self.crawler.spider)
            return None

    def _close(self) -> None:
        if self.db is not None:  # None: open_spider failed
            self.db.close()
