"""Storage: stories saved in batches, one transaction per batch, and the run recorded.

Matching and the queueing of alerts happen inside the same transaction as the story
(``crawler.db.stories``), so a killed crawl leaves either all of a story or none of it.

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
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import sqlite_utils
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler.db import connect, runs, transaction
from crawler.db.stories import SaveContext, Saved, save_story
from crawler.story import Story

logger = logging.getLogger(__name__)

T = TypeVar("T")


class StorePipeline:
    """Writes stories to SQLite and the run's outcome to the ``runs`` table."""

    def __init__(self, crawler: Crawler, batch_size: int) -> None:
        self.crawler = crawler
        self.batch_size = batch_size
        self.batch: list[Story] = []
        self.counts: Counter[str] = Counter()
        self.run_id = 0
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
        self.run_id = await self._on_writer(self._start, spider.config.database, spider.site.name)
        spider.run_id = self.run_id

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
        if outcomes is None:
            self.counts["errors"] += len(batch)
            return
        for saved in outcomes:
            self.counts[saved.outcome] += 1
            self.counts["matches"] += len(saved.matched)

    async def close_spider(self) -> None:
        spider: Any = self.crawler.spider
        try:
            await self.flush()
            status, error = spider.run_outcome()
            report = spider.run_counts()
            await self._on_writer(
                self._finish,
                status,
                error=error,
                pages=report.get("pages", 0),
                errors=report.get("errors", 0) + self.counts["errors"],
                articles_new=self.counts["new"],
                articles_changed=self.counts["changed"],
                articles_unchanged=self.counts["unchanged"],
                duplicates=self.counts["duplicate"],
                matches=self.counts["matches"],
            )
        finally:
            self.writer.shutdown(wait=False)

    # --- on the writer thread ----------------------------------------------------------------

    async def _on_writer(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.wrap_future(self.writer.submit(fn, *args, **kwargs))

    def _start(self, database: Any, site: str) -> int:
        self.db = connect(database)
        runs.close_interrupted(self.db, site)
        return runs.start(self.db, site)

    def _save(self, batch: Sequence[Story]) -> list[Saved] | None:
        assert self.db is not None
        try:
            with transaction(self.db):
                return [save_story(self.db, story, self.ctx) for story in batch]
        except Exception:
            logger.exception("could not save %d stories of %s", len(batch), self.crawler.spider)
            return None

    def _finish(self, status: str, **fields: Any) -> None:
        if self.db is None:  # the run never started (open_spider failed)
            return
        try:
            runs.finish(self.db, self.run_id, status, **fields)
        finally:
            self.db.close()
