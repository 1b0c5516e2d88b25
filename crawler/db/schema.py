"""Every table, index and trigger of the record, and the numbered migrations that build them.

The schema is a public interface (users browse it with sqlite-utils and Datasette), so changes
are additive. ``PRAGMA user_version`` holds the number of the last migration applied; opening
a database applies the ones it lacks, in order, each in its own transaction, so a file made by
any earlier release upgrades in place and a crash mid-upgrade leaves a consistent file that the
next open finishes.

Migration 1 is the schema of release 0.1.0, written with ``IF NOT EXISTS`` so that databases
that release made (``user_version`` 0, tables present, some created lazily or not at all) are
completed rather than rebuilt. Later migrations are appended, never edited: a database that has
run one must never see it change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlite_utils

from crawler.db import analysis, matching

logger = logging.getLogger(__name__)

# The full-text index over title + body: case- and diacritics-insensitive, English stemming.
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"

BASELINE = """
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

CREATE TABLE IF NOT EXISTS source_state (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    digest TEXT,
    leads TEXT NOT NULL DEFAULT '[]',
    missing INTEGER NOT NULL DEFAULT 0,
    checked_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS skipped_urls (
    url TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    reason TEXT NOT NULL,
    checked_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS site_health (
    site TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    since TEXT NOT NULL,
    detail TEXT,
    notified_at TEXT
);

CREATE TABLE IF NOT EXISTS schedule (
    site TEXT PRIMARY KEY,
    next_run TEXT,
    pid INTEGER,
    updated_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS article_signatures (
    article_id INTEGER PRIMARY KEY,
    signature BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS lsh_bands (
    band INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    article_id INTEGER NOT NULL,
    PRIMARY KEY (band, bucket, article_id)
) WITHOUT ROWID;
"""


# The index as sqlite-utils' ``enable_fts`` writes it (so sqlite-utils and Datasette find it),
# spelled out because that helper commits the caller's transaction.
FTS = (
    f"""CREATE VIRTUAL TABLE IF NOT EXISTS "articles_fts" USING FTS5 (
    "title", "text", tokenize='{FTS_TOKENIZE}', content="articles")""",
    """CREATE TRIGGER IF NOT EXISTS "articles_ai" AFTER INSERT ON "articles" BEGIN
  INSERT INTO "articles_fts" (rowid, "title", "text") VALUES (new.rowid, new."title", new."text");
END""",
    """CREATE TRIGGER IF NOT EXISTS "articles_ad" AFTER DELETE ON "articles" BEGIN
  INSERT INTO "articles_fts" ("articles_fts", rowid, "title", "text")
  VALUES ('delete', old.rowid, old."title", old."text");
END""",
    """CREATE TRIGGER IF NOT EXISTS "articles_au" AFTER UPDATE ON "articles" BEGIN
  INSERT INTO "articles_fts" ("articles_fts", rowid, "title", "text")
  VALUES ('delete', old.rowid, old."title", old."text");
  INSERT INTO "articles_fts" (rowid, "title", "text") VALUES (new.rowid, new."title", new."text");
END""",
)


def _baseline(db: sqlite_utils.Database) -> None:
    """Release 0.1.0's schema, completing whatever part of it a database already has."""
    _script(db, BASELINE)
    for statement in FTS:
        db.execute(statement)


def _multilingual_index(db: sqlite_utils.Database) -> None:
    """Watches across languages (issue 17): ``articles_stemmed``, an FTS5 index of every
    story analysed by its language (words stemmed by its Snowball stemmer, CJK text in
    character pairs, English stories their CJK text only; see ``crawler.db.analysis``),
    built here for the stories already stored; and ``matches.matched_form``, the query or
    alias of the watch that matched.

    Stories are analysed in Python, so no trigger can fill the index on insert
    (``crawler.db.stories`` writes it with the story); the delete trigger keeps it from
    outliving a story deleted by any tool.
    """
    db.execute(
        'CREATE VIRTUAL TABLE IF NOT EXISTS "articles_stemmed" USING FTS5 ('
        '"title", "text", "analyzer" UNINDEXED, tokenize="'
        + analysis.TOKENIZE.replace('"', '""')
        + '")'
    )
    db.execute(
        'CREATE TRIGGER IF NOT EXISTS "articles_stemmed_ad" AFTER DELETE ON "articles" BEGIN '
        'DELETE FROM "articles_stemmed" WHERE rowid = old.rowid; END'
    )
    add_column(db, "matches", "matched_form", "TEXT")
    rows = db.execute("SELECT id, title, text, language FROM articles").fetchall()
    for article_id, title, text, language in rows:
        matching.index_article(db.conn, article_id, title, text, language)


# The accounting of a run (issue 14): every story URL its sources listed ends up stored, up
# to date (known, not due for a check), deferred to a later run by the per-run cap, or
# skipped for a reason; and how its story pages fared against the site's extraction rules.
RUN_ACCOUNTING = (
    ("discovered", "INTEGER NOT NULL DEFAULT 0"),
    ("new_urls", "INTEGER NOT NULL DEFAULT 0"),
    ("due", "INTEGER NOT NULL DEFAULT 0"),
    ("up_to_date", "INTEGER NOT NULL DEFAULT 0"),
    ("fetched", "INTEGER NOT NULL DEFAULT 0"),
    ("stored", "INTEGER NOT NULL DEFAULT 0"),
    ("deferred", "INTEGER NOT NULL DEFAULT 0"),
    ("skipped", "INTEGER NOT NULL DEFAULT 0"),
    ("skip_reasons", "TEXT NOT NULL DEFAULT '{}'"),
    ("fallbacks", "INTEGER NOT NULL DEFAULT 0"),
    ("fallback_fields", "TEXT NOT NULL DEFAULT '{}'"),
    ("rules_full", "INTEGER NOT NULL DEFAULT 0"),
    ("rules_partial", "INTEGER NOT NULL DEFAULT 0"),
    ("rules_none", "INTEGER NOT NULL DEFAULT 0"),
    ("listed", "INTEGER NOT NULL DEFAULT 0"),
    ("off_pattern", "INTEGER NOT NULL DEFAULT 0"),
)


def _run_accounting(db: sqlite_utils.Database) -> None:
    """The run's accounting columns on ``runs`` (older rows read as zeros and ``{}``)."""
    for column, ddl in RUN_ACCOUNTING:
        add_column(db, "runs", column, ddl)


def _site_profiles(db: sqlite_utils.Database) -> None:
    """What newsmon learns of each site from its stories (issue 15): its boilerplate blocks
    and title affix, as ``crawler.extract.site_profile.SiteProfile`` JSON."""
    db.execute(
        "CREATE TABLE IF NOT EXISTS site_profiles ("
        "site TEXT PRIMARY KEY, profile TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )


# Migration n (1-based) is MIGRATIONS[n - 1]. Append only.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _baseline,
    _multilingual_index,
    _run_accounting,
    _site_profiles,
]

LATEST = len(MIGRATIONS)


def version(db: sqlite_utils.Database) -> int:
    """The number of the last migration applied to ``db``."""
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database) -> int:
    """Apply the migrations ``db`` lacks; returns how many ran (0 on an up-to-date file).

    Each runs in a ``BEGIN IMMEDIATE`` transaction that re-reads the version first, so two
    processes opening an old file at once apply each migration exactly once.
    """
    if version(db) >= LATEST:
        return 0
    applied = 0
    conn = db.conn
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = version(db)
            if current >= LATEST:
                conn.execute("COMMIT")
                return applied
            MIGRATIONS[current](db)
            conn.execute(f"PRAGMA user_version = {current + 1}")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        applied += 1
        logger.info("database %s: migrated to schema version %d", _name(db), current + 1)


def add_column(db: sqlite_utils.Database, table: str, column: str, ddl: str) -> None:
    """``ALTER TABLE table ADD COLUMN column ddl`` unless the column exists (for migrations)."""
    if column not in {c.name for c in db[table].columns}:
        db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}")


def _script(db: sqlite_utils.Database, script: str) -> None:
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _name(db: sqlite_utils.Database) -> str:
    row = db.execute("PRAGMA database_list").fetchone()
    return str(row[2] or ":memory:")
