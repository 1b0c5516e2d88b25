"""What a spider remembers between runs, kept in the site's SQLite file.

- known stories (``articles``, ``article_urls``): for the re-check policy;
- per discovery source: its validators (``http_cache``, for conditional GET), a digest of its
  body (did the document change?) and the sources it led to (``source_state.leads``: child
  sitemaps, next pages, feeds a home page announces), which a 304 answer does not repeat;
  autodiscovery probes that found nothing are remembered there too, for a day;
- pages found not to be stories (``skipped_urls``), so a listing's "About us" link is fetched
  once a month rather than on every run.

Reads happen once at the start of a run; writes are collected and committed at its end, in one
transaction. Source state is committed only after a run that fetched every story page it
wanted: otherwise the next run's conditional GET would answer 304 and hide the stories this run
failed to get.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from crawler.db.connection import connect, transaction
from crawler.timestamps import iso, parse_iso, utcnow

SKIPPED_RETRY = timedelta(days=30)  # a page that was not a story may become one (rarely)
MISSING_RETRY = timedelta(days=1)  # an autodiscovery probe that found nothing


@dataclass(frozen=True)
class Known:
    """What storage knows about a story URL, to decide whether to fetch it again."""

    first_seen: str
    last_checked: str | None
    etag: str | None
    last_modified: str | None
    canonical: bool = True  # False for the other URLs a stored story was reached by


@dataclass
class Source:
    """What the last run learned about one discovery source."""

    etag: str | None = None
    last_modified: str | None = None
    digest: str | None = None
    leads: list[tuple[str, str]] = field(default_factory=list)
    missing: bool = False
    checked_at: str = ""

    def missing_recently(self, now: datetime) -> bool:
        """A probe that found nothing less than a day ago is not worth asking again."""
        return self.missing and parse_iso(self.checked_at) > now - MISSING_RETRY


@dataclass
class CrawlState:
    """One site's memory, loaded at the start of a run and saved at its end."""

    site: str
    known: dict[str, Known] = field(default_factory=dict)
    skipped: set[str] = field(default_factory=set)
    sources: dict[str, Source] = field(default_factory=dict)
    new_sources: dict[str, Source] = field(default_factory=dict)
    new_skipped: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls, database: Path, site: str) -> CrawlState:
        """The state of ``site`` as the previous runs left it."""
        db = connect(database)
        try:
            return cls(site, _known(db, site), _skipped(db, site), _sources(db, site))
        finally:
            db.close()

    def remember_source(self, url: str, source: Source) -> None:
        """Keep what a source answered this run (saved at the end, see ``save``)."""
        self.new_sources[url] = source

    def source_missing(self, url: str) -> None:
        """An autodiscovery probe found nothing at ``url``."""
        self.new_sources[url] = Source(missing=True)

    def not_a_story(self, url: str, reason: str) -> None:
        """``url`` was fetched and is not a story; do not fetch it again for a while."""
        self.new_skipped[url] = reason

    def save(self, database: Path, with_sources: bool) -> None:
        """Commit what this run learned; source state only when ``with_sources``."""
        sources = {url: s for url, s in self.new_sources.items() if with_sources or s.missing}
        if not sources and not self.new_skipped:
            return
        db = connect(database)
        try:
            with transaction(db):
                for url, source in sources.items():
                    _save_source(db, self.site, url, source)
                for url, reason in self.new_skipped.items():
                    db.execute(
                        "INSERT OR REPLACE INTO skipped_urls (url, site, reason, checked_at) "
                        "VALUES (?, ?, ?, ?)",
                        (url, self.site, reason, utcnow()),
                    )
        finally:
            db.close()


def _known(db: sqlite_utils.Database, site: str) -> dict[str, Known]:
    rows = db.execute(
        "SELECT a.url, a.first_seen, a.last_checked, a.etag, a.last_modified, 1 "
        "FROM articles a WHERE a.site = ? UNION ALL "
        "SELECT u.url, a.first_seen, a.last_checked, a.etag, a.last_modified, 0 "
        "FROM article_urls u JOIN articles a ON a.id = u.article_id WHERE a.site = ?",
        (site, site),
    ).fetchall()
    return {r[0]: Known(r[1], r[2], r[3], r[4], canonical=bool(r[5])) for r in rows}


def _skipped(db: sqlite_utils.Database, site: str) -> set[str]:
    since = iso(datetime.now(UTC) - SKIPPED_RETRY)
    rows = db.execute(
        "SELECT url FROM skipped_urls WHERE site = ? AND checked_at > ?", (site, since)
    ).fetchall()
    return {r[0] for r in rows}


def _sources(db: sqlite_utils.Database, site: str) -> dict[str, Source]:
    rows = db.execute(
        "SELECT s.url, h.etag, h.last_modified, s.digest, s.leads, s.missing, s.checked_at "
        "FROM source_state s LEFT JOIN http_cache h ON h.url = s.url WHERE s.site = ?",
        (site,),
    ).fetchall()
    return {r[0]: Source(r[1], r[2], r[3], _leads(r[4]), bool(r[5]), r[6]) for r in rows}


def _leads(raw: str) -> list[tuple[str, str]]:
    return [(str(kind), str(url)) for kind, url in json.loads(raw)]


def _save_source(db: sqlite_utils.Database, site: str, url: str, source: Source) -> None:
    db.execute(
        "INSERT INTO http_cache (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
        "last_modified = excluded.last_modified, checked_at = excluded.checked_at",
        (url, source.etag, source.last_modified, utcnow()),
    )
    db.execute(
        "INSERT OR REPLACE INTO source_state (url, site, digest, leads, missing, checked_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (url, site, source.digest, json.dumps(source.leads), int(source.missing), utcnow()),
    )
