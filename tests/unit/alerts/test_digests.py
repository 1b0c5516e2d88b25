"""Scheduled digests: alerts wait in the outbox until the channel's digest time, then go out
as one message, also after a restart that spanned that time. Time is injected (``now``)
rather than waited for; the mail goes to a real local SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlite_utils
from click.testing import CliRunner

from crawler.alerts.delivery import deliver_pending
from crawler.alerts.digests import DigestSchedule
from crawler.cli import cli
from crawler.config import Config, load_config
from crawler.db import connect, outbox
from crawler.timestamps import parse_iso
from replica.sinks import SmtpSink
from tests.helpers import (
    RARE,
    TAKAICHI,
    alert_rows,
    channel,
    email_cfg,
    save_routed,
    setup,
    story,
    subject,
    write_alerts_config,
)

BERLIN = ZoneInfo("Europe/Berlin")
MORNING = {"digest": "0 8 * * *", "timezone": "Europe/Berlin"}
STORIES = [
    story("a", "Rare earths deal", RARE),
    story("b", "PM in Tokyo", TAKAICHI),
    story("c", "Both", f"{RARE} {TAKAICHI}"),
]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def morning_mail(smtp: SmtpSink, **extra: object) -> dict:
    return channel("morning-mail", "email", **email_cfg(smtp.port, "digest"), **MORNING, **extra)


def queue_three(tmp_path: Path, smtp: SmtpSink) -> tuple[Config, sqlite_utils.Database, datetime]:
    """Three stories queued for the morning mail, and the digest time they wait for."""
    config, db = setup(tmp_path, channels=[morning_mail(smtp)])
    save_routed(db, config, *STORIES)
    latest = max(parse_iso(r["created_at"]) for r in alert_rows(db))
    release = DigestSchedule("0 8 * * *", "Europe/Berlin").release(latest)
    assert release is not None
    return config, db, release


def test_three_alerts_wait_and_go_out_as_one_message_at_the_digest_time(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    config, db, at_eight = queue_three(tmp_path, smtp)
    local = at_eight.astimezone(BERLIN)
    assert (local.hour, local.minute) == (8, 0)

    before = deliver_pending(db, config, now=at_eight - timedelta(seconds=1))

    assert (before.sent, before.pending) == (0, 3) and smtp.messages == []
    assert before.held == {"morning-mail": (3, at_eight)}
    offset = local.isoformat()[-6:]  # +01:00 in winter, +02:00 in summer
    assert str(before) == (
        "alerts: nothing to send (3 pending); "
        f"morning-mail: 3 held for the digest at {local:%Y-%m-%d} 08:00 {offset}"
    )

    at_time = deliver_pending(db, config, now=at_eight)

    assert (at_time.sent, at_time.pending, at_time.held) == (3, 0, {})
    (mail,) = smtp.messages
    assert subject(mail.message) == "[newsmon] 3 stories matching rare-earths, takaichi"
    assert not deliver_pending(db, config, now=at_eight + timedelta(minutes=1))
    assert len(smtp.messages) == 1


def test_a_digest_missed_while_down_is_sent_once_after_the_restart(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    config, db, at_eight = queue_three(tmp_path, smtp)
    assert not deliver_pending(db, config, now=at_eight - timedelta(hours=1))
    db.close()  # the daemon stops before 08:00 ...

    # ... and starts again two days later: three 08:00s have passed, one digest goes out.
    restarted = at_eight + timedelta(days=2, hours=3)
    config = load_config(config.path)
    db = connect(config.database)
    report = deliver_pending(db, config, now=restarted)

    assert report.sent == 3
    (mail,) = smtp.messages
    assert subject(mail.message) == "[newsmon] 3 stories matching rare-earths, takaichi"
    assert not deliver_pending(db, config, now=restarted + timedelta(minutes=1))
    assert len(smtp.messages) == 1


def test_notices_are_not_held_and_a_failed_digest_is_retried_not_postponed(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    config, db, at_eight = queue_three(tmp_path, smtp)
    outbox.enqueue_notice(db, "health", "caliber", "3 crawls in a row failed", ["morning-mail"])

    # Now, not a fixed time before the digest: the notice was queued now, and a delivery
    # "two hours before eight" would not see it when the test runs within those two hours.
    early = deliver_pending(db, config, now=datetime.now(UTC))
    assert early.sent == 1
    assert [subject(m.message) for m in smtp.messages] == [
        "[newsmon] Site health: caliber: 3 crawls in a row failed"
    ]

    smtp.data_reply = "451 4.3.0 try again later"
    assert deliver_pending(db, config, now=at_eight).retrying == 3
    smtp.data_reply = None
    retried = deliver_pending(db, config, now=at_eight + timedelta(minutes=1))

    assert retried.sent == 3 and len(smtp.messages) == 2
    assert subject(smtp.messages[1].message) == "[newsmon] 3 stories matching rare-earths, takaichi"


def test_flush_sends_held_alerts_now_as_one_digest(tmp_path: Path, smtp: SmtpSink) -> None:
    config, db, _ = queue_three(tmp_path, smtp)
    runner = CliRunner()
    assert config.path is not None

    unknown = runner.invoke(cli, ["-c", str(config.path), "alerts", "flush", "pager"])
    assert unknown.exit_code == 2
    assert "unknown channel 'pager'" in unknown.output and smtp.messages == []

    flushed = runner.invoke(cli, ["-c", str(config.path), "alerts", "flush", "morning-mail"])

    assert flushed.exit_code == 0, flushed.output
    assert flushed.output == "alerts: 3 sent, 0 failed, 0 pending\n"
    (mail,) = smtp.messages
    assert subject(mail.message) == "[newsmon] 3 stories matching rare-earths, takaichi"


def test_a_changed_schedule_applies_to_alerts_already_waiting(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    config, db, at_eight = queue_three(tmp_path, smtp)
    assert not deliver_pending(db, config, now=at_eight - timedelta(hours=1))

    # The desk drops the morning digest for one mail per pass: nothing waits for 08:00.
    path = write_alerts_config(
        tmp_path, channels=[channel("morning-mail", "email", **email_cfg(smtp.port, "digest"))]
    )
    report = deliver_pending(db, load_config(path), now=datetime.now(UTC))

    assert report.sent == 3 and len(smtp.messages) == 1


@pytest.mark.parametrize(
    ("cron", "zone", "queued", "release"),
    [
        # Weekdays as cron reads them (1-5 = Monday to Friday): Friday 09:00 waits for Monday.
        ("0 8 * * 1-5", "Europe/Berlin", "2025-11-07T08:00:00+00:00", "2025-11-10T08:00:00+01:00"),
        ("0 8 * * 1-5", "Europe/Berlin", "2025-11-03T06:59:59+00:00", "2025-11-03T08:00:00+01:00"),
        # 08:00 local on both sides of the end of summer time (2025-10-26 in Europe).
        ("0 8 * * *", "Europe/Berlin", "2025-10-25T07:00:00+00:00", "2025-10-26T08:00:00+01:00"),
        ("0 8 * * *", "Europe/Berlin", "2025-10-24T12:00:00+00:00", "2025-10-25T08:00:00+02:00"),
        ("30 17 * * 0", "Asia/Tokyo", "2025-11-03T00:00:00+00:00", "2025-11-09T17:30:00+09:00"),
    ],
)
def test_release_time_is_the_next_scheduled_time_in_the_channels_zone(
    cron: str, zone: str, queued: str, release: str
) -> None:
    found = DigestSchedule(cron, zone).release(datetime.fromisoformat(queued))
    assert found == datetime.fromisoformat(release)
    assert found is not None and found.utcoffset() == datetime.fromisoformat(release).utcoffset()
    assert DigestSchedule(cron, zone).due(queued, found)
    assert not DigestSchedule(cron, zone).due(queued, found - timedelta(seconds=1))


def test_an_alert_queued_at_the_digest_time_goes_in_that_digest() -> None:
    assert DigestSchedule("0 8 * * *", "UTC").release(datetime(2025, 1, 1, 8, tzinfo=UTC)) == (
        datetime(2025, 1, 1, 8, tzinfo=UTC)
    )
