"""Concurrency: for about a minute the daemon crawls two sites back to back (1-2 s schedules)
and delivers, while one-off crawls, `alerts flush`, `articles`, `search` and `status` run
against the same database. Nobody sees "database is locked", and the file stays whole."""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from replica.base import Story
from replica.server import ReplicaServer
from replica.sinks import WebhookSink
from replica.sites import ledger
from tests.helpers import REPO, filler, rows, run_newsmon, write_config

DURATION = 55  # seconds of overlapping work
ONE_OFFS = [
    ("crawl", "ledger"),
    ("alerts", "flush"),
    ("articles", "--all"),
    ("crawl", "caliber"),  # usually held by the daemon: skipped, not an error
    ("status", "--json"),
    ("search", "Takaichi"),
    ("articles", "--json"),
]


def publish_stories(servers: list[ReplicaServer], stop: threading.Event) -> None:
    """Keep the daemon's sites busy: a new matching story, or an edit, every second."""
    for n in itertools.count():
        if stop.wait(1.0):
            return
        site = servers[n % len(servers)].site
        if n % 3 == 2:
            victim = site.stories[n % len(site.stories)]
            site.edit_story(victim.slug, paragraphs=[*victim.paragraphs, f"Update {n}."])
            continue
        site.add_story(
            Story(
                slug=f"takaichi-update-{n}",
                title=f"Takaichi update number {n}",
                author=None,
                published=datetime.now(UTC).replace(microsecond=0),
                language="en",
                paragraphs=[f"Takaichi said on day {n} that rare earths matter.", *filler(n)],
            )
        )


def test_daemon_and_one_off_commands_share_the_database_without_lock_errors(
    tmp_path: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> None:
    with ReplicaServer(ledger()) as ledger_server, WebhookSink() as hook:
        config = write_config(
            tmp_path,
            [
                {
                    "name": "caliber",
                    "spider": "caliber",
                    "url": caliber_server.base_url,
                    "every": "1s",
                },
                {
                    "name": "eqmint",
                    "spider": "eqmint",
                    "url": eqmint_server.base_url,
                    "every": "2s",
                },
                # Crawled by the one-off commands only.
                {
                    "name": "ledger",
                    "spider": "generic",
                    "url": ledger_server.base_url,
                    "enabled": False,
                },
            ],
            alerts={"slack": {"webhook_url": hook.url, "mode": "instant"}},
        )
        daemon_log = tmp_path / "daemon.log"
        stop = threading.Event()
        publisher = threading.Thread(
            target=publish_stories, args=([caliber_server, eqmint_server], stop), daemon=True
        )
        with daemon_log.open("w") as log:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "crawler", "-c", str(config), "--log-level", "INFO", "run"],
                cwd=REPO,
                env={**os.environ, "NEWSMON_DELIVER_EVERY": "1", "PYTHONUNBUFFERED": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            publisher.start()
            outputs: list[tuple[tuple[str, ...], int, str]] = []
            started = time.monotonic()
            try:
                for args in itertools.cycle(ONE_OFFS):
                    if time.monotonic() - started > DURATION:
                        break
                    result = run_newsmon(config, *args, timeout=60)
                    outputs.append((args, result.returncode, result.stdout + result.stderr))
            finally:
                stop.set()
                daemon.send_signal(signal.SIGTERM)
                daemon.wait(timeout=60)
        publisher.join(timeout=5)
        assert daemon.returncode == 0

    log_text = daemon_log.read_text()
    for args, code, text in outputs:
        assert "locked" not in text.lower(), (args, text[-2000:])
        busy = args == ("crawl", "caliber") and "skipped: another crawl" in text
        assert code == 0 or busy, (args, code, text[-2000:])
    assert "locked" not in log_text.lower(), [ln for ln in log_text.splitlines() if "locked" in ln]
    assert "Traceback" not in log_text, log_text[-3000:]

    db = tmp_path / "newsmon.db"
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    for (error,) in rows(db, "SELECT error FROM runs WHERE error IS NOT NULL"):
        assert "locked" not in error.lower(), error
    for (error,) in rows(db, "SELECT last_error FROM alerts WHERE last_error IS NOT NULL"):
        assert "locked" not in error.lower(), error
    statuses = dict(
        rows(db, "SELECT site, count(*) FROM runs WHERE status != 'error' GROUP BY site")
    )
    assert statuses.get("caliber", 0) >= 5 and statuses.get("eqmint", 0) >= 3, statuses
    assert statuses.get("ledger", 0) >= 2, statuses
    published = rows(db, "SELECT count(*) FROM articles WHERE title LIKE 'Takaichi update%'")
    assert published[0][0] >= 10
    assert len(outputs) >= 10
