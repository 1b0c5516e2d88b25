"""Durability: a crawl killed with SIGKILL at any moment leaves a consistent database, loses no
committed story, leaves no partial one, and the outbox still sends every alert exactly once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from replica.server import ReplicaServer
from replica.sinks import WebhookSink
from tests.helpers import REPO, run_newsmon, write_config

# Seconds after the crawl has recorded its run (so the kills land mid-crawl however slowly
# the process starts on a loaded machine): before the first batch, between batches, late.
KILL_AFTER = [0.0, 0.3, 0.7, 1.2, 1.8, 2.6]


def last_run_id(db: Path) -> int:
    if not db.exists():
        return 0
    conn = sqlite3.connect(db, timeout=5)
    try:
        return conn.execute("SELECT coalesce(max(id), 0) FROM runs").fetchone()[0]
    except sqlite3.OperationalError:  # schema not written yet
        return 0
    finally:
        conn.close()


def wait_for_running_run(
    db: Path, proc: subprocess.Popen[bytes], after: int, timeout: float = 30
) -> None:
    """Block until the crawl has recorded a new run still marked running (or has ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                conn = sqlite3.connect(db, timeout=1)
                running = conn.execute(
                    "SELECT count(*) FROM runs WHERE status = 'running' AND id > ?", (after,)
                ).fetchone()[0]
                conn.close()
            except sqlite3.OperationalError:  # schema not written yet
                running = 0
            if running:
                return
        time.sleep(0.05)


def start_crawl(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", "-c", str(config), "crawl", "--no-deliver"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def check_consistent(db: Path) -> set[str]:
    """Integrity, and every stored story complete: its version row, FTS row and alerts."""
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}
        if "articles" not in tables:  # killed before its schema was committed: still empty
            return set()
        articles = conn.execute("SELECT id, url, version, text FROM articles").fetchall()
        for article_id, _, version, text in articles:
            assert text, "a stored story has a body"
            assert (
                conn.execute(
                    "SELECT count(*) FROM article_versions WHERE article_id = ? AND version = ?",
                    (article_id, version),
                ).fetchone()[0]
                == 1
            )
        fts = conn.execute("SELECT count(*) FROM articles_fts").fetchone()[0]
        assert fts == len(articles)
        matched = conn.execute("SELECT DISTINCT article_id FROM matches").fetchall()
        queued = conn.execute("SELECT DISTINCT article_id FROM alerts").fetchall()
        assert set(matched) == set(queued), "every match has its alert queued, and only those"
        return {url for _, url, _, _ in articles}
    finally:
        conn.close()


def test_kill_9_at_many_points_loses_nothing_and_sends_once(
    tmp_path: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> None:
    # Slow story pages spread the crawl over seconds, so the kills land mid-crawl.
    for server in (caliber_server, eqmint_server):
        server.set_fault("/en/post/", "slow", chunk=4096, delay=0.05)
    with WebhookSink() as hook:
        config = write_config(
            tmp_path,
            [
                {"name": "caliber", "spider": "caliber", "url": caliber_server.base_url},
                {"name": "eqmint", "spider": "eqmint", "url": eqmint_server.base_url},
            ],
            alerts={"slack": {"webhook_url": hook.url, "mode": "instant"}},
        )
        db = tmp_path / "newsmon.db"
        stored: set[str] = set()
        for delay in KILL_AFTER:
            before = last_run_id(db)
            proc = start_crawl(config)
            wait_for_running_run(db, proc, before)
            time.sleep(delay)
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            if db.exists():
                now = check_consistent(db)
                assert stored <= now, "a committed story disappeared"
                stored = now
        final = run_newsmon(config, "crawl")
        assert final.returncode == 0, final.stdout + final.stderr
        flush = run_newsmon(config, "alerts", "flush")
        assert flush.returncode == 0, flush.stdout + flush.stderr
        check_consistent(db)
        conn = sqlite3.connect(db)
        expected = conn.execute("SELECT count(*) FROM alerts WHERE channel = 'slack'").fetchone()[0]
        statuses = conn.execute("SELECT DISTINCT status FROM alerts").fetchall()
        runs = conn.execute("SELECT status, error FROM runs ORDER BY id").fetchall()
        conn.close()
        assert statuses == [("sent",)]
        sent = Counter(json.dumps(post, sort_keys=True) for post in hook.posts)
        assert len(hook.posts) == expected > 0
        assert max(sent.values()) == 1, "an alert was sent twice"
    interrupted = [r for r in runs if r[1] and "interrupted" in r[1]]
    assert interrupted, "killed runs are recorded as interrupted errors"
