"""The outbox (the ``alerts`` table): alerts are rows written in the same transaction as the match
that causes them.

Delivery is a separate step (see ``crawler.alerts.delivery``); the unique key
(article_id, version, channel) makes re-crawling or re-matching unable to queue a second copy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from crawler.db.connection import transaction, utcnow
from crawler.timestamps import iso

# Alerts that are about a site, not a story: no article, the text in ``payload``.
NOTICE_KINDS = ("health", "recovered")


def enqueue(
    db: sqlite_utils.Database,
    article_id: int,
    version: int,
    watches: Iterable[str],
    kind: str,
    channels: Iterable[str],
) -> int:
    """Queue one pending alert per channel for this story version, each listing every one of
    ``watches``; returns how many are new."""
    names = sorted(set(watches))
    return enqueue_routed(db, article_id, version, {c: (kind, names) for c in channels})


def enqueue_routed(
    db: sqlite_utils.Database,
    article_id: int,
    version: int,
    routed: Mapping[str, tuple[str, Iterable[str]]],
) -> int:
    """Queue one pending alert per channel for this story version: ``routed`` maps each
    channel to the alert's kind and the watches routed to that channel. Returns how many are
    new (the unique key makes a second copy of a row impossible)."""
    queued = 0
    now = utcnow()
    for channel, (kind, watches) in routed.items():
        cur = db.execute(
            "INSERT OR IGNORE INTO alerts "
            "(article_id, version, watches, channel, kind, status, attempts, created_at, "
            "next_attempt_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)",
            (article_id, version, ",".join(sorted(set(watches))), channel, kind, now, now),
        )
        queued += cur.rowcount
    return queued


def was_alerted(db: sqlite_utils.Database, article_id: int) -> bool:
    """Whether any story alert (not a test or health message) exists for this article."""
    return bool(alerted_channels(db, article_id))


def alerted_channels(db: sqlite_utils.Database, article_id: int) -> set[str]:
    """The channels that have a story alert (not a test or health message) for this article."""
    rows = db.execute(
        "SELECT DISTINCT channel FROM alerts WHERE article_id = ? AND kind IN ('new', 'changed')",
        (article_id,),
    ).fetchall()
    return {r[0] for r in rows}


def enqueue_notice(
    db: sqlite_utils.Database, kind: str, site: str, message: str, channels: Iterable[str]
) -> int:
    """Queue a site health (or recovered) notice on every channel; returns how many.

    Notices have no story: ``article_id`` is NULL, the text is JSON in ``payload`` and the
    version is a microsecond timestamp, so every notice is a row of its own.
    """
    if kind not in NOTICE_KINDS:
        raise ValueError(f"notice kind must be one of {', '.join(NOTICE_KINDS)}, not {kind!r}")
    payload = json.dumps({"site": site, "message": message}, ensure_ascii=False)
    now = utcnow()
    version = time.time_ns() // 1000
    queued = 0
    with transaction(db):
        for channel in channels:
            cur = db.execute(
                "INSERT OR IGNORE INTO alerts "
                "(article_id, version, watches, channel, kind, status, attempts, payload, "
                "created_at, next_attempt_at) VALUES (NULL, ?, '', ?, ?, 'pending', 0, ?, ?, ?)",
                (version, channel, kind, payload, now, now),
            )
            queued += cur.rowcount
    return queued


def claim_due(
    db: sqlite_utils.Database,
    channel: str,
    now: datetime,
    lease: timedelta,
    everything: bool,
    ready: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """Take the pending alerts of ``channel`` that are due (``everything``: also those
    waiting out a retry backoff) and ``ready`` (a channel's own rule, e.g. a digest schedule
    holding them; rows it refuses stay as they are).

    Claiming pushes ``next_attempt_at`` past the time a delivery pass may take, in one write
    transaction, so a daemon and a one-off crawl delivering at the same moment never both send
    the same alert; if this process dies, the alerts come due again when the lease ends.
    ``everything`` still skips never-attempted alerts with a future time: those are claimed.
    (A retry claimed by another pass cannot be told from one backing off, so a flush racing
    that pass may send it twice.)
    """
    due = "next_attempt_at IS NULL OR next_attempt_at <= ?"
    if everything:
        due += " OR attempts > 0"
    with transaction(db):
        cur = db.execute(
            f"SELECT * FROM alerts WHERE status = 'pending' AND channel = ? AND ({due}) "
            "ORDER BY created_at, id",
            (channel, iso(now)),
        )
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        rows = [r for r in rows if ready is None or ready(r)]
        for row in rows:
            db.execute(
                "UPDATE alerts SET next_attempt_at = ? WHERE id = ?",
                (iso(now + lease), row["id"]),
            )
    return rows


def mark_sent(db: sqlite_utils.Database, ids: Iterable[int], now: datetime) -> None:
    """Record alerts as delivered (one more attempt, no error)."""
    with transaction(db):
        for alert_id in ids:
            db.execute(
                "UPDATE alerts SET status = 'sent', sent_at = ?, attempts = attempts + 1, "
                "last_error = NULL, next_attempt_at = NULL WHERE id = ?",
                (iso(now), alert_id),
            )


def mark_failed(db: sqlite_utils.Database, ids: Iterable[int], error: str) -> None:
    """Record alerts as given up on, with the reason."""
    with transaction(db):
        for alert_id in ids:
            db.execute(
                "UPDATE alerts SET status = 'failed', attempts = attempts + 1, last_error = ?, "
                "next_attempt_at = NULL WHERE id = ?",
                (error, alert_id),
            )


def mark_retry(
    db: sqlite_utils.Database,
    ids: Iterable[int],
    error: str,
    now: datetime,
    policy: RetryPolicy,
    retry_after: float | None = None,
) -> tuple[int, int]:
    """Record a failed attempt: retry later with doubling backoff, or fail after the last
    allowed attempt. Returns (failed, still pending)."""
    failed = pending = 0
    with transaction(db):
        for alert_id in ids:
            row = db.execute("SELECT attempts FROM alerts WHERE id = ?", (alert_id,)).fetchone()
            attempts = (row[0] if row else 0) + 1
            if attempts >= policy.max_attempts:
                status, next_at, failed = "failed", None, failed + 1
            else:
                delay = policy.delay(attempts, retry_after)
                status, next_at, pending = "pending", iso(now + delay), pending + 1
            db.execute(
                "UPDATE alerts SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ? "
                "WHERE id = ?",
                (status, attempts, error, next_at, alert_id),
            )
    return failed, pending


def count_pending(db: sqlite_utils.Database) -> int:
    """Alerts still waiting to be delivered, on any channel."""
    return int(db.execute("SELECT count(*) FROM alerts WHERE status = 'pending'").fetchone()[0])


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry: ``backoff`` doubling per attempt, capped."""

    max_attempts: int
    backoff: timedelta
    cap: timedelta = timedelta(hours=6)

    def delay(self, attempts: int, retry_after: float | None = None) -> timedelta:
        """The wait after the ``attempts``-th failed attempt (at least the server's hint)."""
        delay = min(self.backoff * 2 ** min(attempts - 1, 30), self.cap)
        if retry_after:
            delay = max(delay, min(timedelta(seconds=retry_after), self.cap))
        return delay
