"""The crawl record: one ``runs`` row per crawl of a site, and every question asked of it.

A run is started as ``running`` and finished with its status (``ok``, ``partial``, ``error``),
counters, accounting and error text. A run left ``running`` by a process that died is closed
as an error by whoever next proves nobody else is crawling the site (by holding its lock).

The accounting says what became of every story URL the run's sources listed::

    discovered = stored + up_to_date + deferred + skipped
    new_urls + due = fetched + deferred
    stored = articles_new + articles_changed + articles_unchanged + duplicates

``skip_reasons`` and ``fallback_fields`` are JSON objects of counts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from crawler.db.connection import transaction, utcnow

COUNTERS = (
    "pages",
    "articles_new",
    "articles_changed",
    "articles_unchanged",
    "duplicates",
    "matches",
    "errors",
    # the accounting (migration 2)
    "discovered",
    "new_urls",
    "due",
    "up_to_date",
    "fetched",
    "stored",
    "deferred",
    "skipped",
    "fallbacks",
    "rules_full",
    "rules_partial",
    "rules_none",
    "listed",
    "off_pattern",
)
BREAKDOWNS = ("skip_reasons", "fallback_fields")  # JSON objects of counts
INTERRUPTED = "interrupted: the crawl process ended before finishing"


@dataclass(frozen=True)
class Run:
    """One recorded run, as read back."""

    id: int
    site: str
    status: str
    started_at: str
    error: str | None
    counts: dict[str, int]
    breakdowns: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.status == "error"


def start(db: sqlite_utils.Database, site: str) -> int:
    """Record the start of a crawl of ``site``; returns the run id."""
    with transaction(db):
        cur = db.execute(
            "INSERT INTO runs (site, started_at, status) VALUES (?, ?, 'running')",
            (site, utcnow()),
        )
    return int(cur.lastrowid or 0)


def finish(
    db: sqlite_utils.Database, run_id: int, status: str, *, amend: bool = False, **fields: Any
) -> None:
    """Record how a run ended: its status, counters, accounting and error text.

    The first account of how a run ended stands: a run already ended keeps its status, error
    and end time, and takes only the counters (a crawl the daemon killed at its time limit
    still counts its pages when its spider closes afterwards, but stays "killed"). ``amend``
    replaces them all."""
    counts = {
        k: json.dumps(v, sort_keys=True) if k in BREAKDOWNS else v
        for k, v in fields.items()
        if k in COUNTERS or k in BREAKDOWNS
    }
    ending = {"status": status, "finished_at": utcnow()}
    if "error" in fields:
        ending["error"] = fields["error"]
    open_run = "1" if amend else "status = 'running'"
    cols = [f"{k} = CASE WHEN {open_run} THEN ? ELSE {k} END" for k in ending]
    cols += [f"{k} = ?" for k in counts]
    with transaction(db):
        db.execute(
            f"UPDATE runs SET {', '.join(cols)} WHERE id = ?",
            (*ending.values(), *counts.values(), run_id),
        )


def record_error(db: sqlite_utils.Database, site: str, error: str) -> int:
    """A run that failed before it could record itself: one finished ``error`` row."""
    run_id = start(db, site)
    finish(db, run_id, "error", error=error)
    return run_id


def close_interrupted(
    db: sqlite_utils.Database, site: str, error: str = INTERRUPTED, after_id: int = 0
) -> list[int]:
    """Runs of ``site`` (newer than ``after_id``) still marked running were cut short: record
    them as errors. Call it only while holding the site's lock. Returns their ids."""
    with transaction(db):
        ids = [
            int(row[0])
            for row in db.execute(
                "SELECT id FROM runs WHERE site = ? AND id > ? AND status = 'running'",
                (site, after_id),
            )
        ]
        db.execute(
            "UPDATE runs SET status = 'error', finished_at = ?, error = ? "
            "WHERE site = ? AND id > ? AND status = 'running'",
            (utcnow(), error, site, after_id),
        )
    return ids


def last_id(db: sqlite_utils.Database, site: str) -> int:
    """The id of the newest run of ``site`` (0 before the first): runs after it are newer."""
    row = db.execute("SELECT max(id) FROM runs WHERE site = ?", (site,)).fetchone()
    return int(row[0] or 0)


def latest(db: sqlite_utils.Database, site: str, after_id: int = 0) -> Run | None:
    """The newest run of ``site`` with an id above ``after_id``, or None."""
    rows = list(
        db.query(
            "SELECT * FROM runs WHERE site = ? AND id > ? ORDER BY id DESC LIMIT 1",
            (site, after_id),
        )
    )
    return _run(rows[0]) if rows else None


def last_started(db: sqlite_utils.Database, site: str) -> str | None:
    """When the newest run of ``site`` started (ISO 8601), or None."""
    row = db.execute("SELECT max(started_at) FROM runs WHERE site = ?", (site,)).fetchone()
    return str(row[0]) if row and row[0] else None


def finished(db: sqlite_utils.Database, site: str, limit: int) -> list[tuple[str, str | None]]:
    """(status, error) of the newest ``limit`` finished runs of ``site``, newest first."""
    return [
        (str(status), error)
        for status, error in db.execute(
            "SELECT status, error FROM runs WHERE site = ? AND status != 'running' "
            "ORDER BY id DESC LIMIT ?",
            (site, limit),
        )
    ]


def yield_span(db: sqlite_utils.Database, site: str) -> tuple[str | None, str | None, str | None]:
    """For silence checks: the start of the first and of the latest finished run of ``site``,
    and of the latest one that found a new story."""
    row = db.execute(
        "SELECT min(started_at), max(started_at), "
        "max(CASE WHEN articles_new > 0 THEN started_at END) "
        "FROM runs WHERE site = ? AND status != 'running'",
        (site,),
    ).fetchone()
    return row[0], row[1], row[2]


def extraction_history(
    db: sqlite_utils.Database, site: str, limit: int = 20
) -> list[dict[str, Any]]:
    """For drift checks: the newest finished runs of ``site`` that extracted story pages with
    site rules or saw stories listed by story-only sources, newest first, with their counts."""
    rows = db.query(
        "SELECT id, started_at, fallbacks, fallback_fields, rules_full, rules_partial, "
        "rules_none, listed, off_pattern FROM runs WHERE site = ? AND status != 'running' "
        "AND (rules_full + rules_partial + rules_none > 0 OR listed > 0) "
        "ORDER BY id DESC LIMIT ?",
        (site, limit),
    )
    return [{**row, "fallback_fields": _counts(row["fallback_fields"])} for row in rows]


def _counts(raw: object) -> dict[str, int]:
    """A JSON object of counts as stored; anything else reads as empty."""
    try:
        value = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int)}


def _run(row: dict[str, Any]) -> Run:
    counts = {k: int(row.get(k) or 0) for k in COUNTERS}
    breakdowns = {k: _counts(row.get(k)) for k in BREAKDOWNS}
    return Run(
        row["id"], row["site"], row["status"], row["started_at"], row["error"], counts, breakdowns
    )
