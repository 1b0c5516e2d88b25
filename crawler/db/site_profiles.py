"""Site profiles as stored (``site_profiles``): one JSON document per site, and the stored
stories a first profile is learned from. What a profile means is
``crawler.extract.site_profile``'s business; this module only keeps it."""

from __future__ import annotations

import sqlite_utils

from crawler.db.connection import transaction, utcnow


def load(db: sqlite_utils.Database, site: str) -> str | None:
    """The stored profile of ``site`` (JSON), or None."""
    row = db.execute("SELECT profile FROM site_profiles WHERE site = ?", [site]).fetchone()
    return str(row[0]) if row else None


def save(db: sqlite_utils.Database, site: str, profile: str) -> None:
    """Store the profile of ``site``, replacing its earlier one."""
    with transaction(db):
        db.execute(
            "INSERT INTO site_profiles (site, profile, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(site) DO UPDATE SET profile = excluded.profile, "
            "updated_at = excluded.updated_at",
            [site, profile, utcnow()],
        )


def recent_stories(db: sqlite_utils.Database, site: str, limit: int) -> list[tuple[str, str]]:
    """(url, text) of the site's ``limit`` newest stored stories (duplicates of other sites'
    stories left out: their text is another site's), oldest first."""
    rows = db.execute(
        "SELECT url, text FROM articles WHERE site = ? AND duplicate_of IS NULL "
        "ORDER BY id DESC LIMIT ?",
        [site, limit],
    ).fetchall()
    return [(str(url), str(text)) for url, text in reversed(rows)]
