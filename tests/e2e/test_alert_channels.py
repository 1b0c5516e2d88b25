"""Three named channels end to end: the replica sites crawled by `newsmon crawl`, each watch
routed to its channels (a morning e-mail digest, a Slack desk, an Apprise JSON webhook), each
alert delivered once per channel; the daemon sending, at start, the digest it missed while it
was down; and Apprise URLs kept out of DEBUG logs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from crawler.config import load_config
from crawler.db import connect, transaction
from replica.server import ReplicaServer
from replica.sinks import SmtpSink, WebhookSink
from tests.helpers import (
    RARE,
    REPO,
    TAKAICHI,
    WATCHES,
    database_bytes,
    rows,
    run_newsmon,
    save_routed,
    seed_sites,
    story,
    subject,
    write_config,
)

ROUTES = {"rare-earths": ["morning-mail", "ops-hook"], "takaichi": ["japan-desk", "ops-hook"]}
HOOK_ENV = "NEWSMON_TEST_OPS_HOOK"


@dataclass
class Desks:
    smtp: SmtpSink
    slack: WebhookSink
    hook: WebhookSink


@pytest.fixture
def desks() -> Iterator[Desks]:
    with SmtpSink() as smtp, WebhookSink() as slack, WebhookSink() as hook:
        yield Desks(smtp, slack, hook)


def alerts_config(desks: Desks, digest: str = "0 8 * * 1-5") -> dict[str, Any]:
    """The issue's three channels: an 08:00 e-mail digest, Slack instant, an Apprise hook."""
    return {
        "channels": [
            {
                "name": "morning-mail",
                "type": "email",
                "host": desks.smtp.host,
                "port": desks.smtp.port,
                "security": "none",
                "sender": "newsmon@newsmon.test",
                "to": ["commodities@newsmon.test"],
                "digest": digest,
                "timezone": "Europe/Berlin",
            },
            {"name": "japan-desk", "type": "slack", "webhook_url": desks.slack.url},
            {"name": "ops-hook", "type": "apprise", "url_env": HOOK_ENV},
        ],
        "operator": ["ops-hook"],
    }


def routed_config(tmp_path: Path, sites: list[dict], desks: Desks, **alerts: Any) -> Path:
    """The seed watches, each routed to its desks, and the three channels."""
    watches = [{**w, "channels": ROUTES[w["name"]]} for w in WATCHES]
    return write_config(tmp_path, sites, watches=watches, alerts={**alerts_config(desks), **alerts})


def stories_by_watch(db: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for watch, title in rows(
        db,
        "SELECT m.watch, a.title FROM matches m JOIN articles a ON a.id = m.article_id "
        "WHERE a.duplicate_of IS NULL",
    ):
        found.setdefault(watch, set()).add(title)
    return found


def mail_titles(msg: EmailMessage) -> set[str]:
    part = msg.get_body(("plain",))
    assert part is not None
    text = str(part.get_content())  # type: ignore[attr-defined]
    return {line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("New story: ")}


def test_three_channels_get_each_watch_they_route_exactly_once(
    tmp_path: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer, desks: Desks
) -> None:
    config = routed_config(tmp_path, seed_sites(caliber_server, eqmint_server), desks)
    assert load_config(config).routes() == {k: tuple(v) for k, v in ROUTES.items()}
    env = {HOOK_ENV: desks.hook.apprise_url("json")}

    crawl = run_newsmon(config, "crawl", env=env)

    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    db = tmp_path / "newsmon.db"
    by_watch = stories_by_watch(db)
    rare, takaichi = by_watch["rare-earths"], by_watch["takaichi"]
    assert rare and takaichi and rare != takaichi
    # Slack and the hook are instant; the mail waits for 08:00 Berlin on a weekday.
    assert {p["text"].removeprefix("New story: ") for p in desks.slack.posts} == takaichi
    assert len(desks.slack.posts) == len(takaichi)
    hook_titles = [p["title"].split(": ", 1)[1] for p in desks.hook.posts]
    assert sorted(hook_titles) == sorted(rare | takaichi)
    assert desks.smtp.messages == []
    assert f"morning-mail: {len(rare)} held for the digest at " in crawl.stdout
    assert " 08:00 +0" in crawl.stdout  # +01:00 or +02:00: Berlin time

    flush = run_newsmon(config, "alerts", "flush", "morning-mail", env=env)

    assert flush.returncode == 0, flush.stderr
    assert flush.stdout.startswith(f"alerts: {len(rare)} sent, 0 failed, 0 pending")
    (mail,) = desks.smtp.messages
    assert mail.rcpt_tos == ["commodities@newsmon.test"]
    assert subject(mail.message) == f"[newsmon] {len(rare)} stories matching rare-earths"
    assert mail_titles(mail.message) == rare

    again = run_newsmon(config, "crawl", env=env)
    assert again.returncode == 0, again.stderr
    assert "alerts:" not in again.stdout  # nothing queued, nothing held
    counts = (len(desks.smtp.messages), len(desks.slack.posts), len(desks.hook.posts))
    assert counts == (1, len(takaichi), len(rare | takaichi))
    per_channel = dict(
        rows(db, "SELECT channel, count(*) FROM alerts WHERE status = 'sent' GROUP BY channel")
    )
    assert per_channel == {
        "morning-mail": len(rare),
        "japan-desk": len(takaichi),
        "ops-hook": len(rare | takaichi),
    }
    assert rows(db, "SELECT count(*) FROM alerts WHERE status != 'sent'") == [(0,)]


def test_the_daemon_sends_the_digest_it_missed_while_down_once_at_start(
    tmp_path: Path, desks: Desks
) -> None:
    config_path = routed_config(tmp_path, [], desks, **alerts_config(desks, digest="0 8 * * *"))
    config = load_config(config_path)
    # Three alerts a previous run of the daemon queued yesterday at 07:00 Berlin, before the
    # 08:00 digest it was down for.
    db = connect(config.database)
    save_routed(
        db,
        config,
        story("a", "Rare earths deal", RARE),
        story("b", "Magnet exports", "Exports of rare earths magnets rose in October."),
        story("c", "Both", f"{RARE} {TAKAICHI}"),
    )
    yesterday = (datetime.now(UTC) - timedelta(days=1)).replace(hour=6, minute=0, second=0)
    with transaction(db):
        db.execute(
            "UPDATE alerts SET created_at = ?, next_attempt_at = ?",
            (yesterday.isoformat(), yesterday.isoformat()),
        )
        # The Slack desk and the hook had their alerts long ago.
        db.execute("UPDATE alerts SET status = 'sent' WHERE channel != 'morning-mail'")
    db.close()

    env = {**os.environ, "PYTHONUNBUFFERED": "1", HOOK_ENV: desks.hook.apprise_url("json")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "-c", str(config_path), "--log-level", "INFO", "run",
         "--deliver-every", "60", "--stop-grace", "2"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while not desks.smtp.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2)  # a second copy would come now, if at all
        proc.send_signal(signal.SIGTERM)
        log, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert proc.returncode == 0, log[-3000:]
    (mail,) = desks.smtp.messages
    assert subject(mail.message) == "[newsmon] 3 stories matching rare-earths"
    assert "morning-mail: digest scheduled ('0 8 * * *' (Europe/Berlin)), next at " in log
    assert rows(tmp_path / "newsmon.db", "SELECT DISTINCT status FROM alerts") == [("sent",)]
    assert desks.slack.posts == [] and desks.hook.posts == []


def test_apprise_urls_stay_out_of_debug_logs_errors_and_the_database(
    tmp_path: Path, desks: Desks
) -> None:
    config_path = routed_config(tmp_path, [], desks)
    config = load_config(config_path)
    db = connect(config.database)
    save_routed(db, config, story("b", "PM in Tokyo", TAKAICHI))
    db.close()
    url = desks.hook.apprise_url("json")
    secret = url.rsplit("/", 1)[1]
    desks.hook.stop()  # the hook is down: Apprise logs the URL it failed to reach

    flush = run_newsmon(config_path, "--log-level", "DEBUG", "alerts", "flush", env={HOOK_ENV: url})
    test = run_newsmon(config_path, "alerts", "test", "ops-hook", env={HOOK_ENV: url})

    assert flush.returncode == 0 and "DEBUG" in flush.stderr
    assert "ops-hook: JSON: " in flush.stdout
    assert test.returncode == 1 and "ops-hook: JSON: " in test.stderr
    for where, text in {
        "flush": flush.stdout + flush.stderr,
        "alerts test": test.stdout + test.stderr,
        "the database": database_bytes(tmp_path / "newsmon.db").decode("latin-1"),
    }.items():
        assert secret not in text, f"the Apprise URL leaked into {where}"
