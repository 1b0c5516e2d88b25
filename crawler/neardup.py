"""Near-duplicate detection (syndicated copies, light rewrites) with MinHash LSH in SQLite."""

from __future__ import annotations

import sqlite_utils

from crawler.items import Story


def find(db: sqlite_utils.Database, story: Story) -> int | None:
    """The id of the first stored story this one nearly duplicates, or None."""
    return None


def add(db: sqlite_utils.Database, article_id: int, story: Story) -> None:
    """Index a stored story so later near-copies of it are found."""


def signature(text: str) -> list[int]:
    """The MinHash signature of a story body."""
    return []
