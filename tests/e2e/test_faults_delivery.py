"""Durability of delivery: `alerts flush` killed with SIGKILL in the middle of sending loses no
alert. The alerts it had claimed wait out their lease (so a second sender cannot double them),
then go out; the one message in flight at the kill may arrive twice, nothing else does."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from crawler.alerts.delivery import LEASE, deliver_pending
from crawler.config import load_config
from crawler.db import connect
from replica.server import ReplicaServer
from tests.helpers import REPO, rows, run_newsmon, write_config

POST_SECONDS = 0.4


class SlowWebhook:
    """A Slack-like webhook taking POST_SECONDS to accept each post; ``posts`` are the bodies
    it accepted, in order (a post is accepted even if the sender is gone by then)."""

    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(POST_SECONDS)
                sink.posts.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T/B/secret"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def story_of(post: dict[str, Any]) -> str:
    """The story a Slack post is about: its first section's link target."""
    text = post["blocks"][1]["text"]["text"]
    return str(text.split("<", 1)[1].split("|", 1)[0])


def test_kill_during_delivery_loses_nothing_and_resends_at_most_the_one_in_flight(
    tmp_path: Path, caliber_server: ReplicaServer
) -> None:
    hook = SlowWebhook()
    try:
        config = write_config(
            tmp_path,
            [{"name": "caliber", "spider": "caliber", "url": caliber_server.base_url}],
            alerts={"slack": {"webhook_url": hook.url, "mode": "instant"}},
        )
        crawl = run_newsmon(config, "crawl", "--no-deliver")
        assert crawl.returncode == 0, crawl.stdout + crawl.stderr
        db = tmp_path / "newsmon.db"
        queued = rows(db, "SELECT count(*) FROM alerts WHERE status = 'pending'")[0][0]
        assert queued >= 5

        flush = subprocess.Popen(
            [sys.executable, "-m", "crawler", "-c", str(config), "alerts", "flush"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while len(hook.posts) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(POST_SECONDS / 4)  # two accepted and marked, the third in flight
        os.killpg(flush.pid, signal.SIGKILL)
        flush.wait(timeout=10)
        time.sleep(POST_SECONDS)  # the server accepts the post in flight
        sent_before = len(hook.posts)
        assert 0 < sent_before < queued

        # The claimed alerts are leased to the dead process: another sender leaves them alone.
        again = run_newsmon(config, "alerts", "flush")
        assert again.returncode == 0, again.stderr
        assert len(hook.posts) == sent_before
        marked = rows(db, "SELECT count(*) FROM alerts WHERE status = 'sent'")[0][0]
        assert marked in (sent_before - 1, sent_before)

        # Once the lease is over, everything goes out.
        conn = connect(db)
        try:
            report = deliver_pending(conn, load_config(config), datetime.now(UTC) + LEASE * 1.1)
        finally:
            conn.close()
        assert report.pending == 0
    finally:
        hook.close()
    statuses = rows(db, "SELECT status, count(*) FROM alerts GROUP BY status")
    assert statuses == [("sent", queued)]
    per_story = Counter(story_of(post) for post in hook.posts)
    assert len(per_story) == queued, "every alert was delivered"
    assert sum(per_story.values()) - queued <= 1, f"sent twice: {per_story.most_common(2)}"
