"""Dropping a story met twice in one run (listed by two sources under two URLs that
canonicalize alike). Its fingerprints were computed with its extraction
(``crawler.extract.article.extract_page``); storage compares them with what is stored."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.crawling import run_record as record
from crawler.story import Story


class DedupPipeline:
    """Drops in-run repeats of a story URL (counted: they are skipped stories of the run)."""

    def __init__(self, crawler: Crawler | None = None) -> None:
        self.crawler = crawler
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.seen.clear()

    def process_item(self, item: Story) -> Story:
        if item.url in self.seen:
            if self.crawler is not None:
                self.crawler.stats.inc_value(record.outcome_key(record.REPEAT))
            raise DropItem(f"already stored in this run: {item.url}", log_level="INFO")
        self.seen.add(item.url)
        return item
