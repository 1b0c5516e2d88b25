"""When sites run: triggers for `every:` and `cron:`, catch-up after downtime, and the daemon's
published next runs.

The daemon writes each site's next run to the ``schedule`` table (with its pid) so that
``newsmon status`` shows the real one; without a live daemon, status computes it from the
configuration and the last recorded run.
"""

from __future__ import annotations

import os
import zlib
from datetime import UTC, datetime, timedelta

import sqlite_utils
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.config import Site
from crawler.cron import cron_trigger
from crawler.cron import cron_weekdays as cron_weekdays  # re-exported: tests and callers
from crawler.db import runs, transaction
from crawler.timestamps import iso, parse_iso, utcnow

# Sites that share a schedule are spread over this share of it, at most MAX_SPREAD.
SPREAD_SHARE = 0.1
MAX_SPREAD = timedelta(seconds=60)
MIN_MISFIRE_GRACE = 30


# --- triggers --------------------------------------------------------------------------------


def trigger_for(site: Site, first: datetime) -> BaseTrigger:
    """The APScheduler trigger of ``site``, its first fire time being ``first``."""
    if site.cron:
        return cron_trigger(site.cron, jitter=spread(site).total_seconds() or None)
    assert site.interval is not None
    # A fixed per-site phase rather than APScheduler's random jitter, which adds up run after
    # run and makes an interval drift longer.
    return IntervalTrigger(seconds=site.interval.total_seconds(), start_date=first)


def period(site: Site) -> timedelta:
    """How often ``site`` runs: its interval, or the gap between its next two cron times."""
    if site.interval is not None:
        return site.interval
    assert site.cron is not None
    trigger = cron_trigger(site.cron)
    first = trigger.get_next_fire_time(None, datetime.now(UTC))
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1)) if first else None
    return second - first if first and second else timedelta(days=1)


def spread(site: Site) -> timedelta:
    """How far runs of sites sharing a schedule are spread: small against the period."""
    return min(period(site) * SPREAD_SHARE, MAX_SPREAD)


def phase(site: Site) -> timedelta:
    """The site's fixed offset within its spread (the same across restarts and hosts)."""
    return spread(site) * (zlib.crc32(site.name.encode("utf-8")) / 2**32)


def misfire_grace(site: Site) -> int:
    """Seconds a run may start late (busy host, suspend) and still run: up to one period,
    after which the next regular run is as good."""
    return max(MIN_MISFIRE_GRACE, int(period(site).total_seconds()))


def first_run(site: Site, last_started: datetime | None, now: datetime) -> datetime:
    """When a site should next run, given its last run: ``now`` if it never ran or missed a
    scheduled time (e.g. while the daemon was down), else its next regular time."""
    if last_started is None:
        return now
    if site.cron:
        due = cron_trigger(site.cron).get_next_fire_time(None, last_started + timedelta(seconds=1))
        return now if due is None or due <= now else due
    assert site.interval is not None
    due = last_started + site.interval
    return now if due <= now else due


def last_started(db: sqlite_utils.Database, site: str) -> datetime | None:
    """When the last recorded run of ``site`` started."""
    started = runs.last_started(db, site)
    return parse_iso(started) if started else None


# --- the published schedule --------------------------------------------------------------------


def publish(db: sqlite_utils.Database, site: str, when: datetime | None) -> None:
    """Record this process's next run of ``site`` (None: none planned)."""
    with transaction(db):
        db.execute(
            "INSERT INTO schedule (site, next_run, pid, updated_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(site) DO UPDATE SET next_run = excluded.next_run, pid = excluded.pid, "
            "updated_at = excluded.updated_at",
            (site, iso(when) if when else None, os.getpid(), utcnow()),
        )


def unpublish(db: sqlite_utils.Database, sites: list[str] | None = None) -> None:
    """Forget this process's schedule of some sites (all when None)."""
    with transaction(db):
        if sites is None:
            db.execute("DELETE FROM schedule WHERE pid = ?", (os.getpid(),))
        for site in sites or []:
            db.execute("DELETE FROM schedule WHERE site = ? AND pid = ?", (site, os.getpid()))


def next_run(db: sqlite_utils.Database, site: Site, last: str | None) -> str | None:
    """The next run for `newsmon status`: the live daemon's, else what the schedule implies
    ("now" when due); None for a disabled site."""
    if not site.enabled:
        return None
    row = db.execute("SELECT next_run, pid FROM schedule WHERE site = ?", (site.name,)).fetchone()
    if row is not None and _alive(row[1]):
        return str(row[0]) if row[0] else None
    now = datetime.now(UTC)
    due = first_run(site, parse_iso(last) if last else None, now)
    return "now" if due <= now else iso(due)


def _alive(pid: int | None) -> bool:
    """Whether the daemon that published a schedule still runs (a killed one leaves rows)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True
