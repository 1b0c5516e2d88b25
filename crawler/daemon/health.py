"""Site health: failing, silent or ok, with one notice per problem and one when it ends.

A site is ``failing`` after ``health_failures`` errored runs in a row, ``silent`` when its runs
have yielded no new story for ``health_silence``, ``ok`` otherwise, and ``unknown`` before its
first run. The state is persisted in ``site_health`` so that one problem raises one ``health``
notice and its end one ``recovered`` notice, however many runs it lasts and across restarts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from crawler.config import Config, parse_interval
from crawler.db import runs, transaction
from crawler.db.outbox import enqueue_notice
from crawler.timestamps import iso, parse_iso, utcnow

logger = logging.getLogger(__name__)

HEALTHY = ("ok", "unknown")


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
    """What a change of state means: a problem starts, ends, or only changes shape (which is
    still the same problem, so it raises no second notice)."""
    if old in HEALTHY and now.state not in HEALTHY:
        return Transition(site, old, now.state, "health", now.detail)
    if old not in HEALTHY and now.state in HEALTHY:
        message = f"crawling normally again (was {old} since {since})"
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
