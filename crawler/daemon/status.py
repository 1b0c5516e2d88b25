"""`newsmon status`: each site's last run, its counts, the next run and health."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from crawler.config import Config
from crawler.daemon import health, schedule
from crawler.db import runs


def site_status(db: sqlite_utils.Database, config: Config) -> list[dict[str, Any]]:
    """Per site: last run, its result and counts, the next scheduled run, and health."""
    out = []
    for site in config.sites:
        last = runs.latest(db, site.name)
        entry: dict[str, Any] = {
            "site": site.name,
            "last_run": last.started_at if last else None,
            "last_status": last.status if last else None,
            "last_error": last.error if last else None,
            "next_run": schedule.next_run(db, site, last.started_at if last else None),
            "health": health.assess(db, site.name, config).state,
        }
        for key in runs.COUNTERS:
            entry[key] = last.counts[key] if last else 0
        out.append(entry)
    return out
