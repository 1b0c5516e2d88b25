"""The outbox: alerts are rows written in the same transaction as the match that causes them.

Delivery is a separate step (see ``crawler.alerts.delivery``); the unique key
(article_id, version, channel) makes re-crawling or re-matching unable to queue a second copy.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlite_utils

from crawler.storage import utcnow


def enqueue(
    db: sqlite_utils.Database,
    article_id: int,
    version: int,
    watches: Iterable[str],
    kind: str,
    channels: Iterable[str],
) -> int:
    """Queue one pending alert per channel for this story version; returns how many are new."""
    names = ",".join(sorted(set(watches)))
    queued = 0
    now = utcnow()
    for channel in channels:
        cur = db.execute(
            "INSERT OR IGNORE INTO alerts "
            "(article_id, version, watches, channel, kind, status, attempts, created_at, "
            "next_attempt_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
            (article_id, version, names, channel, kind, now, now),
        )
        queued += cur.rowcount
    return queued


def was_alerted(db: sqlite_utils.Database, article_id: int) -> bool:
    """Whether any story alert (not a test or health message) exists for this article."""
    row = db.execute(
        "SELECT 1 FROM alerts WHERE article_id = ? AND kind IN ('new', 'changed') LIMIT 1",
        (article_id,),
    ).fetchone()
    return row is not None
