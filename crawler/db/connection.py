"""Opening the record: connection settings every process shares, transactions, timestamps.

WAL mode, a busy timeout and short ``BEGIN IMMEDIATE`` transactions let a daemon, one-off
crawls and readers use one file at once, and keep it consistent if a process is killed at any
moment. Opening a file applies the schema migrations it lacks (``crawler.db.schema``).
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import sqlite_utils

from crawler.db import schema
from crawler.timestamps import utcnow

__all__ = ["BUSY_TIMEOUT_MS", "connect", "transaction", "utcnow"]

BUSY_TIMEOUT_MS = 60_000


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) the database with the settings every process must share,
    migrated to the current schema. Use it in a ``with`` block, which closes it."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000)
    db = sqlite_utils.Database(conn)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _use_wal(conn)
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    schema.migrate(db)
    return db


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch a new database file to WAL. The switch needs the file to itself, and SQLite
    answers "database is locked" at once, without waiting out the busy timeout, while another
    process holds it (two processes creating the same database: the daemon and a one-off
    command started with it); so it is tried again until the busy timeout has passed."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    delay = 0.005
    while True:
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


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
