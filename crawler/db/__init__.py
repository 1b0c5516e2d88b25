"""The SQLite record: schema and migrations, connections, and every query newsmon runs.

``connect``, ``transaction`` and ``utcnow`` are what most callers need; the modules hold the
rest: ``schema`` (all DDL, migrations), ``runs`` (the crawl record), ``stories`` (story writes),
``queries`` (reads), ``matching`` (watch queries on the full-text index), ``crawl_state`` (what
spiders remember between runs), ``near_duplicates`` (the MinHash LSH index).
"""

from __future__ import annotations

from crawler.db.connection import connect, transaction, utcnow

__all__ = ["connect", "transaction", "utcnow"]
