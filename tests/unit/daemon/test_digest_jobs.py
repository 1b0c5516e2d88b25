"""The daemon wakes its delivery thread at each scheduled digest time, follows a reload, and
asks for a delivery pass as it starts (the catch-up of a digest missed while it was down).
The scheduler runs paused: its jobs are real, nothing fires."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from crawler.config import load_config
from crawler.daemon.service import Daemon


def write(path: Path, digest: str | None) -> Path:
    mail = {"name": "morning-mail", "type": "email", "host": "127.0.0.1", "sender": "a@b.test",
            "to": ["c@d.test"]}  # fmt: skip
    if digest:
        mail |= {"digest": digest, "timezone": "Europe/Berlin"}
    slack = {"name": "desk", "type": "slack", "webhook_url": "http://127.0.0.1:9/hook"}
    path.write_text(yaml.safe_dump({"alerts": {"channels": [mail, slack]}}))
    return path


def test_digest_jobs_follow_the_schedule_and_reloads(tmp_path: Path) -> None:
    path = write(tmp_path / "newsmon.yaml", "0 8 * * 1-5")
    daemon = Daemon(load_config(path), "WARNING")
    daemon.scheduler.start(paused=True)
    try:
        daemon._schedule_digests()
        (job,) = daemon.scheduler.get_jobs()
        assert job.id == "digest:morning-mail"
        fire = job.trigger.get_next_fire_time(None, datetime(2025, 11, 7, 8, tzinfo=UTC))
        assert fire == datetime(2025, 11, 10, 8, tzinfo=ZoneInfo("Europe/Berlin"))  # Monday

        write(path, "30 17 * * *")
        daemon.reload()
        (job,) = daemon.scheduler.get_jobs()
        assert job.trigger.get_next_fire_time(None, fire).hour == 17

        write(path, None)  # the desk goes back to a mail per delivery pass
        daemon.reload()
        assert daemon.scheduler.get_jobs() == []
    finally:
        daemon.scheduler.shutdown(wait=False)
