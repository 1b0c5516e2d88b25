"""Email alerts delivered over real SMTP to a local aiosmtpd server (replica/sinks.py)."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.alerts.delivery import deliver_pending
from crawler.cli import cli
from replica.sinks import SmtpSink
from tests.helpers import (
    HOSTILE_TITLE,
    PASSWORD,
    PASSWORD_ENV,
    RARE,
    TAKAICHI,
    alert_rows,
    email_cfg,
    save,
    setup,
    story,
    subject,
    write_alerts_config,
)

EMAIL = ("email",)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    with SmtpSink() as sink:
        yield sink


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()  # type: ignore[attr-defined]


def test_instant_sends_one_multipart_mail_per_story(tmp_path: Path, smtp: SmtpSink) -> None:
    config, db = setup(tmp_path, email=email_cfg(smtp.port, "instant"))
    save(db, story("deal", "Rare earths deal signed", RARE), EMAIL)
    save(db, story("pm", "New PM meets delegation", TAKAICHI), EMAIL)

    report = deliver_pending(db, config)

    assert (report.sent, report.failed, report.pending) == (2, 0, 0)
    assert len(smtp.messages) == 2
    first, second = smtp.messages
    assert first.mail_from == "alerts@newsmon.test"
    assert first.rcpt_tos == ["analyst@newsmon.test", "desk@newsmon.test"]
    msg = first.message
    assert subject(msg) == "[newsmon] rare-earths: Rare earths deal signed"
    assert msg["To"] == "analyst@newsmon.test, desk@newsmon.test"
    assert msg.get_content_type() == "multipart/alternative"
    text, html = parts(msg)
    assert "New story: Rare earths deal signed" in text
    assert "Site: caliber   Published: 2025-10-28 10:06 +04:00" in text
    assert "Watches: rare-earths" in text
    assert "Link: https://caliber.az/en/post/deal" in text
    assert "<mark>" in html and 'href="https://caliber.az/en/post/deal"' in html
    assert subject(second.message) == "[newsmon] takaichi: New PM meets delegation"
    assert "Prime Minister **Takaichi** met" in parts(second.message)[0]
    assert "Prime Minister <mark>Takaichi</mark> met" in parts(second.message)[1]
    assert all(r["status"] == "sent" and r["attempts"] == 1 for r in alert_rows(db))


def test_digest_sends_one_mail_per_pass(tmp_path: Path, smtp: SmtpSink) -> None:
    config, db = setup(tmp_path, email=email_cfg(smtp.port, "digest"))
    save(db, story("a", "Rare earths deal", RARE), EMAIL)
    save(db, story("b", "PM in Tokyo", TAKAICHI), EMAIL)
    save(db, story("c", "Magnets", "Rare earths magnets are scarce. Takaichi spoke."), EMAIL)

    assert deliver_pending(db, config).sent == 3
    assert len(smtp.messages) == 1
    msg = smtp.messages[0].message
    assert subject(msg) == "[newsmon] 3 stories matching rare-earths, takaichi"
    text, html = parts(msg)
    for title in ("Rare earths deal", "PM in Tokyo", "Magnets"):
        assert f"New story: {title}" in text and title in html
    # One passage matched by two watches is shown once, with both matches marked.
    assert "**Rare earths** magnets are scarce. **Takaichi** spoke." in text

    assert not deliver_pending(db, config)
    assert len(smtp.messages) == 1


def test_hostile_title_adds_no_header_or_recipient(tmp_path: Path, smtp: SmtpSink) -> None:
    config, db = setup(tmp_path, email=email_cfg(smtp.port, "instant"))
    save(db, story("evil", HOSTILE_TITLE, RARE), EMAIL)

    deliver_pending(db, config)

    (received,) = smtp.messages
    assert received.rcpt_tos == ["analyst@newsmon.test", "desk@newsmon.test"]
    msg = received.message
    assert "Bcc" not in msg and "x@evil.test" not in msg["To"]
    assert sorted(msg.keys()) == sorted(
        [
            "Subject",
            "From",
            "To",
            "Date",
            "Message-ID",
            "Auto-Submitted",
            "Content-Type",
            "MIME-Version",
        ]
    )
    assert "\r" not in subject(msg) and "\n" not in subject(msg)
    assert subject(msg).startswith("[newsmon] rare-earths: Evil Bcc: x@evil.test <script>")
    text, html = parts(msg)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; &lt;http://x|y&gt;" in html
    assert "New story: Evil Bcc: x@evil.test <script>alert(1)</script>" in text


def test_changed_story_shows_old_and_new_title_and_sentences(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    config, db = setup(tmp_path, email=email_cfg(smtp.port, "instant"))
    save(db, story("deal", "Rare earths deal", RARE), EMAIL)
    deliver_pending(db, config)
    edited = RARE.replace("The deal covers magnets and refining.", "Prices jumped 5%.")
    save(db, story("deal", "Rare earths deal collapses", edited + " Officials were silent."), EMAIL)

    deliver_pending(db, config)

    msg = smtp.messages[1].message
    assert subject(msg) == "[newsmon] rare-earths (changed): Rare earths deal collapses"
    text, html = parts(msg)
    assert "Title was: Rare earths deal\n" in text
    assert "Title now: Rare earths deal collapses" in text
    assert "  + Prices jumped 5%." in text and "  + Officials were silent." in text
    assert "  - The deal covers magnets and refining." in text
    assert "<del>Rare earths deal</del>" in html
    assert "Removed: <del>The deal covers magnets and refining.</del>" in html
    assert [r["kind"] for r in alert_rows(db)] == ["new", "changed"]


def test_server_down_keeps_alerts_pending_then_flush_sends_each_once(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    config, db = setup(tmp_path, email=email_cfg(smtp.port, "instant"))
    save(db, story("a", "Rare earths deal", RARE), EMAIL)
    save(db, story("b", "PM in Tokyo", TAKAICHI), EMAIL)
    smtp.stop()

    report = deliver_pending(db, config)

    assert (report.sent, report.failed, report.pending) == (0, 0, 2)
    assert "Connection refused" in str(report)
    for row in alert_rows(db):
        assert row["status"] == "pending" and row["attempts"] == 1
        assert f"SMTP 127.0.0.1:{smtp.port}" in row["last_error"]
        assert row["next_attempt_at"] > row["created_at"]

    smtp.start()
    runner = CliRunner()
    cfg = str(tmp_path / "newsmon.yaml")
    result = runner.invoke(cli, ["-c", cfg, "alerts", "flush"])
    assert result.exit_code == 0, result.output
    assert "alerts: 2 sent, 0 failed, 0 pending" in result.output
    assert len(smtp.messages) == 2
    assert [r["attempts"] for r in alert_rows(db)] == [2, 2]

    again = runner.invoke(cli, ["-c", cfg, "alerts", "flush"])
    assert again.exit_code == 0 and "nothing to send" in again.output
    assert len(smtp.messages) == 2


def test_refusals_permanent_for_recipients_transient_for_4xx(
    tmp_path: Path, smtp: SmtpSink
) -> None:
    config, db = setup(tmp_path, email=email_cfg(smtp.port, "instant"))
    save(db, story("a", "Rare earths deal", RARE), EMAIL)
    smtp.data_reply = "451 4.3.0 try again later"
    deliver_pending(db, config)
    (row,) = alert_rows(db)
    assert row["status"] == "pending" and "451 4.3.0 try again later" in row["last_error"]

    smtp.data_reply = None
    smtp.rcpt_reply = "550 5.1.1 no such user"
    deliver_pending(db, config, everything=True)
    (row,) = alert_rows(db)
    assert row["status"] == "failed" and row["attempts"] == 2
    assert "every recipient refused" in row["last_error"] and "550" in row["last_error"]
    assert smtp.messages == []


def test_login_uses_the_password_from_the_environment_and_never_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    login = {"username": "alerts", "password_env": PASSWORD_ENV}
    with SmtpSink(credentials=("alerts", PASSWORD)) as good:
        config, db = setup(tmp_path, email=email_cfg(good.port, **login))
        save(db, story("a", "Rare earths deal", RARE), EMAIL)
        assert deliver_pending(db, config).sent == 1
        assert good.logins == ["alerts"] and len(good.messages) == 1

    with SmtpSink(credentials=("alerts", "something else")) as picky:
        config, db = setup(tmp_path / "2", email=email_cfg(picky.port, **login))
        save(db, story("a", "Rare earths deal", RARE), EMAIL)
        report = deliver_pending(db, config)
        (row,) = alert_rows(db)
        assert "login refused: 535" in row["last_error"]
        assert PASSWORD not in row["last_error"] and PASSWORD not in str(report)
        cfg = str(tmp_path / "2" / "newsmon.yaml")
        result = CliRunner().invoke(cli, ["-c", cfg, "alerts", "test", "email"])
        assert result.exit_code == 1 and "535" in result.output
        assert PASSWORD not in result.output


def test_alerts_test_command(tmp_path: Path, smtp: SmtpSink) -> None:
    cfg = str(write_alerts_config(tmp_path, email=email_cfg(smtp.port)))
    runner = CliRunner()

    ok = runner.invoke(cli, ["-c", cfg, "alerts", "test", "email"])
    assert ok.exit_code == 0, ok.output
    assert "email: test message sent" in ok.output
    (received,) = smtp.messages
    assert subject(received.message).startswith("[newsmon] Test message: ")
    assert "**newsmon**" in parts(received.message)[0]

    smtp.stop()
    down = runner.invoke(cli, ["-c", cfg, "alerts", "test", "email"])
    assert down.exit_code == 1
    assert f"email: SMTP 127.0.0.1:{smtp.port}" in down.output and "refused" in down.output

    unconfigured = runner.invoke(cli, ["-c", cfg, "alerts", "test", "slack"])
    assert unconfigured.exit_code == 2 and "not configured" in unconfigured.output
    unknown = runner.invoke(cli, ["-c", cfg, "alerts", "test", "pager"])
    assert unknown.exit_code == 2 and "unknown channel" in unknown.output


def test_a_day_without_a_time_is_shown_as_a_day() -> None:
    from crawler.alerts.render import when

    assert when("2025-10-28") == "2025-10-28"
    assert when("2025-10-28T10:06:00+04:00") == "2025-10-28 10:06 +04:00"
    assert when(None) == "date unknown"
