"""The outbox and delivery passes: exactly once, retries, claims, notices, channel isolation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crawler.alerts import diff
from crawler.alerts.delivery import LEASE, DeliveryReport, deliver_pending
from crawler.db import outbox
from replica.sinks import SmtpSink, WebhookSink
from tests.helpers import (
    RARE,
    TAKAICHI,
    WEBHOOK_ENV,
    alert_rows,
    email_cfg,
    save,
    setup,
    slack_cfg,
    story,
    subject,
)

BOTH = ("email", "slack")


@pytest.fixture
def sinks(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[SmtpSink, WebhookSink]]:
    with SmtpSink() as smtp, WebhookSink() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, hook.url)
        yield smtp, hook


def test_digest_and_instant_counts_and_nothing_twice(
    tmp_path: Path, sinks: tuple[SmtpSink, WebhookSink]
) -> None:
    smtp, hook = sinks
    config, db = setup(tmp_path, email=email_cfg(smtp.port, "digest"), slack=slack_cfg("instant"))
    stories = [
        story("a", "Rare earths deal", RARE),
        story("b", "PM in Tokyo", TAKAICHI),
        story("c", "Both", f"{RARE} {TAKAICHI}"),
    ]
    for item in stories:
        save(db, item, BOTH)

    report = deliver_pending(db, config)

    assert (report.sent, report.failed, report.pending) == (6, 0, 0)
    assert str(report) == "alerts: 6 sent, 0 failed, 0 pending"
    assert len(smtp.messages) == 1 and len(hook.posts) == 3

    for item in stories:  # re-crawled unchanged: re-matching queues nothing
        save(db, item, BOTH)
    assert len(alert_rows(db)) == 6
    again = deliver_pending(db, config)
    assert not again and str(again) == "alerts: nothing to send (0 pending)"
    assert len(smtp.messages) == 1 and len(hook.posts) == 3


def test_one_channel_down_does_not_hold_up_the_other(
    tmp_path: Path, sinks: tuple[SmtpSink, WebhookSink]
) -> None:
    smtp, hook = sinks
    config, db = setup(tmp_path, email=email_cfg(smtp.port), slack=slack_cfg())
    save(db, story("a", "Rare earths deal", RARE), BOTH)
    hook.stop()

    report = deliver_pending(db, config)

    assert (report.sent, report.pending) == (1, 1)
    assert str(report).startswith("alerts: 1 sent, 0 failed, 1 pending (slack: 127.0.0.1:")
    assert {r["channel"]: r["status"] for r in alert_rows(db)} == {
        "email": "sent",
        "slack": "pending",
    }


def test_claimed_alerts_are_not_sent_by_a_second_process_until_the_lease_ends(
    tmp_path: Path, sinks: tuple[SmtpSink, WebhookSink]
) -> None:
    smtp, _ = sinks
    config, db = setup(tmp_path, email=email_cfg(smtp.port))
    save(db, story("a", "Rare earths deal", RARE), ("email",))
    now = datetime.now(UTC) + timedelta(seconds=1)

    # Another process claimed the alert and died before sending it.
    (claimed,) = outbox.claim_due(db, "email", now, LEASE, everything=False)
    assert claimed["status"] == "pending"
    assert not deliver_pending(db, config, now=now)
    assert smtp.messages == []

    assert deliver_pending(db, config, now=now + LEASE).sent == 1
    assert len(smtp.messages) == 1


def test_notices_are_delivered_on_every_channel(
    tmp_path: Path, sinks: tuple[SmtpSink, WebhookSink]
) -> None:
    smtp, hook = sinks
    config, db = setup(tmp_path, email=email_cfg(smtp.port, "digest"), slack=slack_cfg("digest"))
    save(db, story("a", "Rare earths deal", RARE), BOTH)
    assert outbox.enqueue_notice(db, "health", "caliber", "3 failed runs in a row", BOTH) == 2
    assert outbox.enqueue_notice(db, "recovered", "caliber", "<b>ok</b> again", BOTH) == 2

    assert deliver_pending(db, config).sent == 6

    notices = [r for r in alert_rows(db) if r["article_id"] is None]
    assert len(notices) == 4 and len({r["version"] for r in notices}) == 2
    assert json.loads(notices[0]["payload"]) == {
        "site": "caliber",
        "message": "3 failed runs in a row",
    }
    subjects = sorted(subject(m.message) for m in smtp.messages)
    assert subjects == [
        "[newsmon] Site health: caliber: 3 failed runs in a row",
        "[newsmon] Site recovered: caliber: <b>ok</b> again",
        "[newsmon] rare-earths: Rare earths deal",
    ]
    html = [m.message for m in smtp.messages if "recovered" in subject(m.message)][0]
    assert "&lt;b&gt;ok&lt;/b&gt; again" in html.get_body(("html",)).get_content()  # type: ignore[union-attr]
    notice_posts = [p for p in hook.posts if p["blocks"][0]["text"]["text"].startswith("Site")]
    assert [p["blocks"][1]["text"]["text"] for p in notice_posts] == [
        "*Site health*: caliber\n3 failed runs in a row",
        "*Site recovered*: caliber\n&lt;b&gt;ok&lt;/b&gt; again",
    ]
    with pytest.raises(ValueError, match="notice kind"):
        outbox.enqueue_notice(db, "new", "caliber", "x", BOTH)


def test_alerts_for_an_unconfigured_channel_wait(
    tmp_path: Path, sinks: tuple[SmtpSink, WebhookSink]
) -> None:
    smtp, _ = sinks
    config, db = setup(tmp_path, email=email_cfg(smtp.port))
    save(db, story("a", "Rare earths deal", RARE), BOTH)

    report = deliver_pending(db, config)

    assert (report.sent, report.pending) == (1, 1)


def test_backoff_doubles_and_is_capped() -> None:
    policy = outbox.RetryPolicy(max_attempts=20, backoff=timedelta(minutes=1))
    delays = [policy.delay(n) for n in (1, 2, 3, 4)]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert policy.delay(15) == timedelta(hours=6)
    assert policy.delay(1, retry_after=300) == timedelta(minutes=5)


def test_report_summary() -> None:
    assert not DeliveryReport(pending=3)
    report = DeliveryReport(sent=3, retrying=1, pending=1, errors={"slack": "slack: HTTP 500"})
    assert report and str(report) == "alerts: 3 sent, 0 failed, 1 pending (slack: HTTP 500)"


def test_sentence_diff() -> None:
    change = diff.compare(
        "Deal signed",
        "Tokyo signed a deal. Prices rose 5%.\nAnalysts were cautious.",
        "Deal signed",
        "Analysts were cautious.  Tokyo signed a deal! Prices fell 2%.",
    )
    assert change.old_title is None
    assert change.added == ("Tokyo signed a deal!", "Prices fell 2%.")
    assert change.removed == ("Tokyo signed a deal.", "Prices rose 5%.")
    many = diff.compare("A", "", "B", " ".join(f"Sentence {i}." for i in range(9)))
    assert many.old_title == "A" and len(many.added) == 5 and many.more_added == 4


def test_flush_takes_backed_off_alerts_but_not_fresh_claims(
    tmp_path: Path, sinks: tuple[SmtpSink, WebhookSink]
) -> None:
    smtp, _ = sinks
    config, db = setup(tmp_path, email=email_cfg(smtp.port))
    save(db, story("a", "Rare earths deal", RARE), ("email",))
    save(db, story("b", "PM in Tokyo", TAKAICHI), ("email",))
    now = datetime.now(UTC) + timedelta(seconds=1)
    smtp.data_reply = "451 4.3.0 busy"
    deliver_pending(db, config, now=now)  # both now back off for a minute
    smtp.data_reply = None
    save(db, story("c", "Magnets", "Rare earths magnets."), ("email",))
    outbox.claim_due(db, "email", now, LEASE, everything=False)  # another pass took "c"

    assert deliver_pending(db, config, now=now, everything=True).sent == 2
    assert [r["status"] for r in alert_rows(db)] == ["sent", "sent", "pending"]
