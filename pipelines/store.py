"""Storage: stories saved in batches, one transaction per batch, and the run recorded.

Matching and the queueing of alerts happen inside the same transaction as the story
(``crawler.stories``), so a killed crawl leaves either all of a story or none of it.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from crawler import storage
from crawler.items import Story
from crawler.stories import SaveContext, save_story

logger = logging.getLogger(__name__)


class StorePipeline:
    """Writes stories to SQLite and the run's outcome to the ``runs`` table."""

    def __init__(self, crawler: Crawler, batch_size: int) -> None:
        self.crawler = crawler
        self.batch_size = batch_size
        self.batch: list[Story] = []
        self.counts: Counter[str] = Counter()
        self.run_id = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        if not crawler.settings.getbool("NEWSMON_STORE_ENABLED", True):
            raise NotConfigured("storage disabled")
        return cls(crawler, crawler.settings.getint("NEWSMON_BATCH_SIZE", 50))

    def open_spider(self) -> None:
        spider: Any = self.crawler.spider
        self.db = storage.connect(spider.config.database)
        self.ctx = SaveContext(
            watches=[(w.name, w.query) for w in spider.config.watches],
            channels=list(spider.config.alerts.channels),
        )
        storage.close_interrupted_runs(self.db, spider.site.name)
        self.run_id = storage.start_run(self.db, spider.site.name)
        spider.run_id = self.run_id

    def process_item(self, item: Story) -> Story:
        self.batch.append(item)
        if len(self.batch) >= self.batch_size:
            self.flush()
        return item

    def flush(self) -> None:
        """Save the pending batch in one transaction; a failed batch is counted, not fatal."""
        batch, self.batch = self.batch, []
        if not batch:
            return
        try:
            with storage.transaction(self.db):
                outcomes = [save_story(self.db, story, self.ctx) for story in batch]
        except Exception:
            logger.exception("could not save %d stories of %s", len(batch), self.crawler.spider)
            self.counts["errors"] += len(batch)
            return
        for saved in outcomes:
            self.counts[saved.outcome] += 1
            self.counts["matches"] += len(saved.matched)

    def close_spider(self) -> None:
        spider: Any = self.crawler.spider
        self.flush()
        status, error = spider.run_outcome()
        report = spider.run_counts()
        storage.finish_run(
            self.db,
            self.run_id,
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
        self.db.close()
