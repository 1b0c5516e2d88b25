"""Dropping a story met twice in one run (listed by two sources under two URLs that
canonicalize alike). Its fingerprints were computed with its extraction
(``crawler.extract.article.extract_page``); storage compares them with what is stored."""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.story import Story


class DedupPipeline:
    """Drops in-run repeats of a story URL."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def open_spider(self) -> None:
        self.seen.clear()

    def process_item(self, item: Story) -> Story:
        if item.url in self.seen:
            raise DropItem(f"already stored in this run: {item.url}", log_level="INFO")
        self.seen.add(item.url)
        return item
