"""Fingerprints for duplicate detection, and dropping a story met twice in one run.

Storage compares the fingerprints with what is already stored (``crawler.stories``); this
pipeline computes them in the crawl so the database transaction stays short.
"""

from __future__ import annotations

from scrapy.exceptions import DropItem

from crawler import neardup
from crawler.fingerprint import body_hash, content_hash, normalize
from crawler.items import Story

# Bodies shorter than this are too generic ("Photo gallery", a one-line brief) to call two
# stories the same by their text alone.
MIN_DUPLICATE_CHARS = 200


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
        if item.not_modified:
            return item
        item.content_hash = content_hash(item.title, item.text)
        if len(normalize(item.text)) >= MIN_DUPLICATE_CHARS:
            item.body_hash = body_hash(item.text)
            item.signature = neardup.signature(item.text)
        return item
