"""The SQLite record: schema, connection settings, transactions and run bookkeeping.

The schema is a public interface (users browse it with sqlite-utils and Datasette), so
changes to it are additive. WAL mode, a busy timeout and short ``BEGIN IMMEDIATE``
transactions let a daemon and a one-off crawl write the same file, and keep it consistent if
the process is killed at any moment.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from crawler.matching import TOKENIZE

BUSY_TIMEOUT_MS = 60_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    site TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    author TEXT,
    published TEXT,
    modified TEXT,
    language TEXT,
    description TEXT,
    text TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    body_hash TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    duplicate_of INTEGER REFERENCES articles(id),
    etag TEXT,
    last_modified TEXT,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    last_checked TEXT
);
CREATE INDEX IF NOT EXISTS articles_site_first_seen ON articles(site, first_seen);
CREATE INDEX IF NOT EXISTS articles_content_hash ON articles(content_hash);
CREATE INDEX IF NOT EXISTS articles_body_hash ON articles(body_hash);
CREATE INDEX IF NOT EXISTS articles_duplicate_of ON articles(duplicate_of);

CREATE TABLE IF NOT EXISTS article_urls (
    url TEXT PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles(id)
);

CREATE TABLE IF NOT EXISTS article_versions (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    version INTEGER NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (article_id, version)
);

CREATE TABLE IF NOT EXISTS matches (
    article_id INTEGER NOT NULL REFERENCES articles(id),
    watch TEXT NOT NULL,
    snippet TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    matched_at TEXT NOT NULL,
    PRIMARY KEY (article_id, watch)
);
CREATE INDEX IF NOT EXISTS matches_watch ON matches(watch, matched_at);

CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY,
    article_id INTEGER REFERENCES articles(id),
    version INTEGER NOT NULL,
    watches TEXT NOT NULL,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('new', 'changed', 'health', 'recovered', 'test')),
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT,
    payload TEXT,
    created_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (article_id, version, channel)
);
CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status, next_attempt_at);

CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    site TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',
    pages INTEGER NOT NULL DEFAULT 0,
    articles_new INTEGER NOT NULL DEFAULT 0,
    articles_changed INTEGER NOT NULL DEFAULT 0,
    articles_unchanged INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    matches INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX IF NOT EXISTS runs_site ON runs(site, started_at);

CREATE TABLE IF NOT EXISTS http_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    checked_at TEXT NOT NULL
);
"""

RUN_COUNTERS = (
    "pages",
    "articles_new",
    "articles_changed",
    "articles_unchanged",
    "duplicates",
    "matches",
    "errors",
)


def utcnow() -> str:
    """Now, as stored: ISO 8601 in UTC with an explicit offset, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the database with the settings every process must share."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    ensure_schema(db)
    return db


def ensure_schema(db: sqlite_utils.Database) -> None:
    """Create missing tables and the full-text index; a no-op on an up-to-date file."""
    from crawler import neardup

    if all(db[t].exists() for t in ("articles", "articles_fts", "lsh_bands")):
        return
    with transaction(db):
        for statement in SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        if not db["articles_fts"].exists():
            db.table("articles").enable_fts(
                ["title", "text"], tokenize=TOKENIZE, create_triggers=True
            )
        neardup.ensure_tables(db)


@contextlib.contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction, taken with BEGIN IMMEDIATE so that concurrent writers queue on
    the busy timeout instead of failing on a read-to-write lock upgrade."""
    conn = db.conn
    if conn.in_transaction:  # nested: sqlite-utils' own atomic() uses a savepoint
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def start_run(db: sqlite_utils.Database, site: str) -> int:
    """Record the start of a crawl of ``site``; returns the run id."""
    with transaction(db):
        cur = db.execute(
            "INSERT INTO runs (site, started_at, status) VALUES (?, ?, 'running')",
            (site, utcnow()),
        )
    return int(cur.lastrowid or 0)


def finish_run(db: sqlite_utils.Database, run_id: int, status: str, **fields: Any) -> None:
    """Record how a run ended: its status, counters and error text."""
    allowed = {k: v for k, v in fields.items() if k in RUN_COUNTERS or k == "error"}
    cols = ", ".join(f"{k} = ?" for k in allowed)
    with transaction(db):
        db.execute(
            f"UPDATE runs SET status = ?, finished_at = ?{', ' if cols else ''}{cols} WHERE id = ?",
            (status, utcnow(), *allowed.values(), run_id),
        )


def close_interrupted_runs(
    db: sqlite_utils.Database,
    site: str,
    error: str = "interrupted: the crawl process ended before finishing",
) -> int:
    """Runs of ``site`` still marked running were cut short: record them as errors.
    Returns how many there were."""
    with transaction(db):
        cur = db.execute(
            "UPDATE runs SET status = 'error', finished_at = ?, error = ? "
            "WHERE site = ? AND status = 'running'",
            (utcnow(), error, site),
        )
    return cur.rowcount


def get_validators(db: sqlite_utils.Database, url: str) -> tuple[str | None, str | None]:
    """The ETag and Last-Modified last seen for a feed, sitemap or listing URL."""
    row = db.execute("SELECT etag, last_modified FROM http_cache WHERE url = ?", (url,)).fetchone()
    return (row[0], row[1]) if row else (None, None)


def save_validators(
    db: sqlite_utils.Database, url: str, etag: str | None, last_modified: str | None
) -> None:
    """Remember a source's validators for the next conditional GET."""
    with transaction(db):
        db.execute(
            "INSERT INTO http_cache (url, etag, last_modified, checked_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
            "last_modified = excluded.last_modified, checked_at = excluded.checked_at",
            (url, etag, last_modified, utcnow()),
        )
