"""Site health: failing, drifted, silent or ok, with one notice per problem and one when it ends.

A site is ``failing`` after ``health_failures`` errored runs in a row; ``drifted`` when most of
its latest story pages no longer match the site's extraction rules (they are stored all the
same, with generic extraction), or when most stories its feeds list no longer match its
article pattern; ``silent`` when its runs have yielded no new story for ``health_silence``;
``ok`` otherwise, and ``unknown`` before its first run. The state is persisted in
``site_health`` so that one problem raises one ``health`` notice and its end one
``recovered`` notice, however many runs it lasts and across restarts. Failing and silent are
one problem in two shapes (the site yields nothing); drift is another, with its own notice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from crawler.config import Config, parse_interval
from crawler.db import runs, transaction
from crawler.db.outbox import enqueue_notice
from crawler.timestamps import iso, parse_iso, utcnow

logger = logging.getLogger(__name__)

HEALTHY = ("ok", "unknown")
# Problems of one kind: moving between them is the same problem changing shape (no notice).
KINDS = {"failing": "yield", "silent": "yield", "drifted": "drift"}
# Drift is judged on the newest story pages (over as many recent runs as it takes to see this
# many), so that one odd page is not a drift and a low-volume site is still judged.
DRIFT_PAGES = 3
DRIFT_RUNS = 10
# Fields every story page has: the rules missing them means the rules no longer fit the page.
STRUCTURAL = ("container", "title", "body")


@dataclass(frozen=True)
class Assessment:
    """A site's health now, and a sentence saying why (for the notice)."""

    state: str
    detail: str


@dataclass(frozen=True)
class Transition:
    """A change of health state; ``notice`` is the alert kind queued for it, if any."""

    site: str
    old: str
    new: str
    notice: str | None
    message: str


def assess(db: sqlite_utils.Database, site: str, config: Config) -> Assessment:
    """The health of ``site`` from its recorded runs (those still running are ignored)."""
    failing = _failure_streak(db, site, config.health_failures)
    if failing:
        return Assessment("failing", failing)
    drifted = drift(db, site)
    if drifted:
        return Assessment("drifted", drifted)
    first, latest, last_new = runs.yield_span(db, site)
    if latest is None:
        return Assessment("unknown", "never crawled")
    window = parse_interval(config.health_silence)
    # Silence is measured up to the latest run: a site that is not being crawled yields nothing,
    # but that is the scheduler's problem, not the site's.
    if parse_iso(latest) - parse_iso(last_new or first or latest) >= window:
        since = f"last new story in the run of {last_new}" if last_new else "none ever"
        return Assessment("silent", f"no new stories for {config.health_silence} ({since})")
    return Assessment("ok", "crawling normally")


def _failure_streak(db: sqlite_utils.Database, site: str, needed: int) -> str | None:
    """The reason for failing, if the last ``needed`` finished runs all errored."""
    rows = runs.finished(db, site, needed)
    if len(rows) < needed or any(status != "error" for status, _ in rows):
        return None
    last_error = (rows[0][1] or "no error recorded").strip().splitlines()[0]
    return f"{needed} crawls in a row failed; last error: {last_error}"


def drift(db: sqlite_utils.Database, site: str) -> str | None:
    """Why ``site`` has drifted, or None. See ``rules_drift`` and ``pattern_drift``."""
    history = runs.extraction_history(db, site, DRIFT_RUNS)
    was_drifted = stored_state(db, site) == "drifted"
    return rules_drift(history, was_drifted) or pattern_drift(history)


def rules_drift(history: list[dict[str, Any]], was_drifted: bool = False) -> str | None:
    """Most of the newest story pages (``DRIFT_PAGES`` at least) fell back from the site's
    rules to generic extraction on a field: the story container, title or body (a page the
    rules no longer fit), or a date or author the rules found on every earlier page (a date
    format that never fit the site's Russian pages is no news). Once drifted, a site stays so
    while most pages still fall back on any field."""
    window, before = _window(history, _pages)
    pages = sum(_pages(r) for r in window)
    if pages < DRIFT_PAGES:
        return None
    missed = _fields(window)
    earlier = _fields(before)
    judged = sum(_pages(r) for r in before) >= DRIFT_PAGES
    drifted = [
        name
        for name, count in missed.items()
        if 2 * count > pages
        and (was_drifted or name in STRUCTURAL or (judged and not earlier.get(name)))
    ]
    if not drifted:
        return None
    fell_back = sum(r["fallbacks"] for r in window)
    which = ", ".join(f"{name} {count}" for name, count in sorted(missed.items()))
    return (
        f"{fell_back} of {pages} story pages no longer match the site's rules; stored with "
        f"generic extraction (fields from generic extraction: {which})"
    )


def pattern_drift(history: list[dict[str, Any]]) -> str | None:
    """Most stories the story-only sources (feeds, the WordPress API, news sitemaps) list lately
    do not match the site's article pattern: the site changed its URLs."""
    window, _ = _window(history, lambda r: int(r["listed"]))
    listed = sum(r["listed"] for r in window)
    missed = sum(r["off_pattern"] for r in window)
    if listed < DRIFT_PAGES or 2 * missed <= listed:
        return None
    return (
        f"{missed} of {listed} stories its feeds list no longer match its article_pattern; "
        "fetched and stored all the same"
    )


def _pages(run: dict[str, Any]) -> int:
    return int(run["rules_full"] + run["rules_partial"] + run["rules_none"])


def _fields(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Pages per field that fell back, over these runs."""
    out: dict[str, int] = {}
    for row in rows:
        for name, count in row["fallback_fields"].items():
            out[name] = out.get(name, 0) + count
    return out


def _window(
    history: list[dict[str, Any]], count: Callable[[dict[str, Any]], int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The newest runs (newest first) that together saw at least DRIFT_PAGES of what
    ``count`` counts (or all of them), and the older runs that saw any."""
    counted = [row for row in history if count(row) > 0]
    seen = 0
    for end, row in enumerate(counted, start=1):
        seen += count(row)
        if seen >= DRIFT_PAGES:
            return counted[:end], counted[end:]
    return counted, []


def update(
    db: sqlite_utils.Database, config: Config, site: str, now: datetime | None = None
) -> Transition | None:
    """Re-assess ``site`` after a run; on a change between healthy and unhealthy, queue one
    ``health`` or ``recovered`` notice on the operator's channels. Returns the change."""
    stamp = iso(now) if now else utcnow()
    with transaction(db):
        now_state = assess(db, site, config)
        row = db.execute("SELECT state, since FROM site_health WHERE site = ?", (site,)).fetchone()
        old, since = (row[0], row[1]) if row else ("unknown", stamp)
        if row is not None and old == now_state.state:
            return None
        change = _transition(site, old, since, now_state)
        notified = stamp if change.notice and _notify(db, config, change) else None
        db.execute(
            "INSERT INTO site_health (site, state, since, detail, notified_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT(site) DO UPDATE SET state = excluded.state, "
            "since = excluded.since, detail = excluded.detail, "
            "notified_at = coalesce(excluded.notified_at, site_health.notified_at)",
            (site, now_state.state, stamp, now_state.detail, notified),
        )
    _log(change)
    return change


def _log(change: Transition) -> None:
    if change.new not in HEALTHY:
        level = logging.WARNING
    else:  # a first "ok" after "unknown" is no news
        level = logging.INFO if change.notice else logging.DEBUG
    logger.log(
        level, "%s: health %s -> %s: %s", change.site, change.old, change.new, change.message
    )


def _transition(site: str, old: str, since: str, now: Assessment) -> Transition:
    """What a change of state means: a problem starts, ends, becomes another problem (a new
    notice), or only changes shape (still the same problem, so no second notice)."""
    if now.state not in HEALTHY and KINDS.get(old) != KINDS[now.state]:
        return Transition(site, old, now.state, "health", now.detail)
    if old not in HEALTHY and now.state in HEALTHY:
        again = "the site's rules match again" if old == "drifted" else "crawling normally again"
        message = f"{again} (was {old} since {since})"
        return Transition(site, old, now.state, "recovered", message)
    return Transition(site, old, now.state, None, now.detail)


def _notify(db: sqlite_utils.Database, config: Config, change: Transition) -> bool:
    """Queue the notice on the operator's channels (``alerts.operator``, default: all);
    False when nothing was queued (no channel for it)."""
    assert change.notice is not None
    channels = config.alerts.operator_channels()
    return enqueue_notice(db, change.notice, change.site, change.message, channels) > 0


def stored_state(db: sqlite_utils.Database, site: str) -> str | None:
    """The persisted health state of ``site`` (None before the daemon first assessed it)."""
    row = db.execute("SELECT state FROM site_health WHERE site = ?", (site,)).fetchone()
    return row[0] if row else None
