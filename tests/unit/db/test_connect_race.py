"""Two processes creating the database at once (the daemon and a one-off command started with
it): while one holds the new file's write lock, the other's switch to WAL fails at once with
"database is locked", whatever the busy timeout; connecting must wait for it instead."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from crawler.db import connect


def test_connect_waits_for_a_writer_of_a_file_not_yet_in_wal(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE creating (x)")
    other.execute("BEGIN IMMEDIATE")  # what the other process holds while it sets the file up
    other.execute("INSERT INTO creating VALUES (1)")
    released = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    released.start()
    started = time.monotonic()
    try:
        with connect(path) as db:
            assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert "articles" in db.table_names()
    finally:
        released.join()
        other.close()
    assert time.monotonic() - started >= 0.4  # it waited for the other writer
