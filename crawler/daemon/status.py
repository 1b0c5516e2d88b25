"""`newsmon status`: each site's last run, its counts and accounting, the next run and health."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from crawler.config import Config
from crawler.daemon import health, schedule
from crawler.db import runs


def site_status(db: sqlite_utils.Database, config: Config) -> list[dict[str, Any]]:
    """Per site: last run, its result, counts and accounting, the next scheduled run, and
    health with the reason for it."""
    out = []
    for site in config.sites:
        last = runs.latest(db, site.name)
        state = health.assess(db, site.name, config)
        entry: dict[str, Any] = {
            "site": site.name,
            "last_run": last.started_at if last else None,
            "last_status": last.status if last else None,
            "last_error": last.error if last else None,
            "next_run": schedule.next_run(db, site, last.started_at if last else None),
            "health": state.state,
            "health_detail": state.detail,
        }
        for key in runs.COUNTERS:
            entry[key] = last.counts[key] if last else 0
        for key in runs.BREAKDOWNS:
            entry[key] = last.breakdowns.get(key, {}) if last else {}
        out.append(entry)
    return out
