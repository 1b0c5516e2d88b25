"""Fingerprints for duplicate detection, and dropping a story met twice in one run.

Storage compares the fingerprints with what is already stored (``crawler.stories``); this
pipeline computes them in the crawl so the database transaction stays short.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler.fingerprint import MIN_DUPLICATE_CHARS, fingerprints
from crawler.items import Story

__all__ = ["MIN_DUPLICATE_CHARS", "DedupPipeline"]


class DedupPipeline:
    """Computes content/body hashes and the MinHash signature; drops in-run repeats."""

    def __init__(self) -> None:
        self.seen: set[str] = set()

    def open_spider(self) -> None:
        self.seen.clear()

    def process_item(self, item: Story) -> Story:
        if item.url in self.seen:
            raise DropItem(f"already stored in this run: {item.url}", log_level="INFO")
        self.seen.add(item.url)
        if item.not_modified or item.content_hash:  # already fingerprinted in a worker
            return item
        found = fingerprints(item.title, item.text)
        item.content_hash, item.body_hash = found.content_hash, found.body_hash
        item.signature = list(found.signature)
        return item
