"""Shared set-up for the alert tests: a real database with stories saved the real way, and
configurations pointing at the local sinks in replica/sinks.py."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import sqlite_utils
import yaml

from crawler.config import Config, load_config
from crawler.db import connect, transaction
from crawler.db.stories import SaveContext, Saved, save_story
from crawler.dedup.fingerprints import body_hash, content_hash
from crawler.story import Story

WATCHES = [("rare-earths", '"rare earths"'), ("takaichi", "Takaichi")]
PASSWORD_ENV = "NEWSMON_TEST_SMTP_PASSWORD"
PASSWORD = "hunter2-Sup3rS3cret"
WEBHOOK_ENV = "NEWSMON_TEST_SLACK_WEBHOOK"
HOSTILE_TITLE = "Evil\r\nBcc: x@evil.test <script>alert(1)</script> <!channel> <http://x|y>"


def story(
    slug: str,
    title: str,
    text: str,
    site: str = "caliber",
    published: str | None = "2025-10-28T10:06:00+04:00",
) -> Story:
    """A Story as the pipelines would hand it to storage."""
    s = Story(url=f"https://caliber.az/en/post/{slug}", site=site, title=title, text=text)
    s.published = published
    s.content_hash = content_hash(title, text)
    s.body_hash = body_hash(text)
    return s


def save(db: sqlite_utils.Database, item: Story, channels: tuple[str, ...]) -> Saved:
    """Store one story in its own transaction; matching queues its alerts."""
    with transaction(db):
        return save_story(db, item, SaveContext(watches=WATCHES, channels=channels))


def email_cfg(port: int, mode: str = "instant", **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "alerts@newsmon.test",
        "to": ["analyst@newsmon.test", "desk@newsmon.test"],
        "mode": mode,
        "timeout": 5,
        **extra,
    }


def slack_cfg(mode: str = "instant") -> dict[str, Any]:
    return {"webhook_url_env": WEBHOOK_ENV, "mode": mode, "timeout": 5}


def write_config(tmp_path: Path, **channels: dict[str, Any]) -> Path:
    """A config file in tmp_path with the test watches and these alert channels."""
    raw = {
        "database": "newsmon.db",
        "watches": [{"name": n, "query": q} for n, q in WATCHES],
        "alerts": {"backoff": "1m", "max_attempts": 4, **channels},
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "newsmon.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def setup(tmp_path: Path, **channels: dict[str, Any]) -> tuple[Config, sqlite_utils.Database]:
    """The loaded config and an open database for it."""
    config = load_config(write_config(tmp_path, **channels))
    return config, connect(config.database)


def subject(msg: EmailMessage) -> str:
    """The Subject as a mail client shows it (unfolded, outer space trimmed)."""
    return " ".join(str(msg["Subject"]).split())


def alert_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM alerts ORDER BY id"))


RARE = (
    "Tokyo and Washington signed a framework on rare earths supply on Tuesday. "
    "The deal covers magnets and refining."
)
TAKAICHI = "Prime Minister Takaichi met the delegation in Tokyo. Talks went well."
