"""Apprise channels sending to real local endpoints: json:// and form:// posts to a local HTTP
server, mailto:// to a local SMTP server (replica/sinks.py)."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from apprise import NotifyFormat
from apprise.conversion import convert_between
from click.testing import CliRunner

from crawler.alerts.apprise import AppriseChannel
from crawler.alerts.base import Alert
from crawler.alerts.delivery import deliver_pending
from crawler.cli import cli
from crawler.config import AppriseChannel as AppriseConfig
from replica.sinks import SmtpSink, WebhookSink
from tests.helpers import (
    APPRISE_ENV,
    HOSTILE_TITLE,
    RARE,
    TAKAICHI,
    alert_rows,
    channel,
    save,
    setup,
    story,
    subject,
    write_alerts_config,
)

OPS = ("ops",)
SECRET_PATH = "n3wsm0nS3cr3tP4th"
HOSTILE = (
    f"{HOSTILE_TITLE} @everyone @channel [click](http://evil.test/x) "
    "![img](http://evil.test/i.png) **bold** `code` <img src=x onerror=alert(1)> &amp;"
)


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookSink]:
    with WebhookSink() as sink:
        monkeypatch.setenv(APPRISE_ENV, sink.apprise_url("json"))
        yield sink


def ops(**settings: object) -> dict:
    return channel("ops", "apprise", **({"url_env": APPRISE_ENV} | settings))


def html_part(msg: EmailMessage) -> str:
    part = msg.get_body(("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


def test_json_post_carries_title_site_date_snippet_and_link_as_markdown(
    tmp_path: Path, hook: WebhookSink
) -> None:
    config, db = setup(tmp_path, channels=[ops()])
    save(db, story("deal", "Rare earths deal signed", RARE), OPS)
    save(db, story("pm", "New PM meets delegation", TAKAICHI), OPS)

    assert deliver_pending(db, config).sent == 2

    path, headers, _ = hook.requests[0]
    assert path == f"/hooks/{SECRET_PATH}" and headers["Content-Type"] == "application/json"
    first, second = hook.posts
    assert first["title"] == "[newsmon] rare-earths: Rare earths deal signed"
    message = first["message"]
    assert message.startswith(
        "**New story:** [Rare earths deal signed](https://caliber.az/en/post/deal)\n"
        "Site: caliber · Published: 2025-10-28 10:06 +04:00 · Watches: rare-earths\n\n> "
    )
    assert "**rare earths**" in message.lower()
    assert second["title"] == "[newsmon] takaichi: New PM meets delegation"
    assert "Prime Minister **Takaichi** met" in second["message"]
    assert [r["status"] for r in alert_rows(db)] == ["sent", "sent"]
    assert not deliver_pending(db, config) and len(hook.posts) == 2  # exactly once


def test_form_post_is_plain_text_when_the_url_asks_for_text(
    tmp_path: Path, hook: WebhookSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(APPRISE_ENV, hook.apprise_url("form", "format=text"))
    config, db = setup(tmp_path, channels=[ops()])
    save(db, story("deal", "Rare earths deal signed", RARE), OPS)

    assert deliver_pending(db, config).sent == 1

    (post,) = hook.posts
    assert hook.requests[0][1]["Content-Type"] == "application/x-www-form-urlencoded"
    assert post["title"] == "[newsmon] rare-earths: Rare earths deal signed"
    lines = post["message"].splitlines()
    assert lines[:3] == [
        "New story: Rare earths deal signed",
        "Site: caliber   Published: 2025-10-28 10:06 +04:00",
        "Watches: rare-earths",
    ]
    assert "Link: https://caliber.az/en/post/deal" in lines


def test_mailto_delivers_to_the_smtp_server_as_html(tmp_path: Path) -> None:
    with SmtpSink() as smtp:
        url = f"mailto://127.0.0.1:{smtp.port}?from=alerts@newsmon.test&to=desk@newsmon.test"
        config, db = setup(tmp_path, channels=[ops(url_env=None, url=url + "&mode=insecure")])
        save(db, story("deal", "Rare earths deal signed", RARE), OPS)

        assert deliver_pending(db, config).sent == 1

    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["desk@newsmon.test"]
    assert subject(mail.message) == "[newsmon] rare-earths: Rare earths deal signed"
    body = html_part(mail.message)
    assert '<a href="https://caliber.az/en/post/deal">Rare earths deal signed</a>' in body
    assert "<strong>rare earths</strong>" in body.lower()
    assert "Published: 2025-10-28 10:06 +04:00" in body


def test_digest_mode_lists_every_story_in_one_post(tmp_path: Path, hook: WebhookSink) -> None:
    config, db = setup(tmp_path, channels=[ops(mode="digest")])
    for slug, title, text in [
        ("a", "Rare earths deal", RARE),
        ("b", "PM in Tokyo", TAKAICHI),
        ("c", "Both", f"{RARE} {TAKAICHI}"),
    ]:
        save(db, story(slug, title, text), OPS)

    assert deliver_pending(db, config).sent == 3

    (post,) = hook.posts
    assert post["title"] == "[newsmon] 3 stories matching rare-earths, takaichi"
    assert post["message"].startswith("**3 stories matching rare-earths, takaichi**")
    for slug in "abc":
        assert f"(https://caliber.az/en/post/{slug})" in post["message"]


def test_a_long_digest_is_split_to_fit_the_service() -> None:
    alerts = [
        Alert(
            id=i,
            kind="new",
            title=f"Story {i} about rare earths",
            site="caliber",
            url=f"https://caliber.az/en/post/{i}",
            watches=("rare-earths",),
            snippets=("…" + "Supply of **rare earths** and magnets. " * 12,),
        )
        for i in range(12)
    ]
    # Discord takes 2,000 characters a message; composing needs no network.
    config = AppriseConfig(url="discord://123456/webhooktoken", mode="digest")

    messages = AppriseChannel(config, "discord").compose(alerts)

    assert len(messages) > 1
    assert sorted(a.id for m in messages for a in m.alerts) == list(range(12))
    for i, message in enumerate(messages, 1):
        assert len(message.body.body) <= 2000
        assert message.body.title.endswith(f" (part {i} of {len(messages)})")


def test_hostile_article_text_stays_text_in_markdown_html_and_text(
    tmp_path: Path, hook: WebhookSink
) -> None:
    text = f"{RARE} {HOSTILE}"
    with SmtpSink() as smtp:
        mailto = f"mailto://127.0.0.1:{smtp.port}?from=a@newsmon.test&to=desk@newsmon.test"
        config, db = setup(
            tmp_path,
            channels=[
                ops(),
                channel("form", "apprise", url=hook.apprise_url("form", "format=text")),
                channel("mail", "apprise", url=mailto + "&mode=insecure"),
            ],
        )
        save(db, story("evil", f"Rare earths {HOSTILE}", text), ("ops", "form", "mail"))
        assert deliver_pending(db, config).sent == 3

    assert len(hook.posts) == 2
    as_json = next(p for p in hook.posts if "attachments" in p)  # json:// sends this key
    as_form = next(p for p in hook.posts if "attachments" not in p)

    # Markdown: rendered as Apprise renders it for an HTML service, the story's link is the
    # only link and nothing of the article became markup.
    rendered = convert_between(NotifyFormat.MARKDOWN, NotifyFormat.HTML, as_json["message"])
    assert re.findall(r'href="([^"]*)"', rendered) == ["https://caliber.az/en/post/evil"]
    for tag in ("<script", "<img", "<code", "<em>bold", "<strong>bold"):
        assert tag not in rendered
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "[click](http://evil.test/x)" in html.unescape(re.sub(r"<[^>]+>", "", rendered))

    # Mentions are defused everywhere; the title is one plain line.
    for post in (as_json, as_form):
        for value in (post["title"], post["message"]):
            assert "@everyone" not in value and "@channel" not in value
            assert "@\u200beveryone" in value
        assert "\n" not in post["title"] and "\r" not in post["title"]
    assert "<script>alert(1)</script>" in as_form["message"]  # text is shown as written

    # Mail: the HTML Apprise made from the Markdown shows the text, escaped.
    (mail,) = smtp.messages
    assert mail.rcpt_tos == ["desk@newsmon.test"] and mail.message["Bcc"] is None
    body = html_part(mail.message)
    assert "<script" not in body and "<img" not in body
    assert re.findall(r'href="([^"]*)"', body) == ["https://caliber.az/en/post/evil"]


def test_a_service_that_is_down_is_retried_and_errors_never_show_the_url(
    tmp_path: Path, hook: WebhookSink, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config, db = setup(tmp_path, channels=[ops()])
    save(db, story("deal", "Rare earths deal signed", RARE), OPS)
    hook.stop()
    t0 = datetime.now(UTC) + timedelta(seconds=1)

    first = deliver_pending(db, config, now=t0)

    (row,) = alert_rows(db)
    assert (first.sent, first.retrying, row["status"], row["attempts"]) == (0, 1, "pending", 1)
    assert row["last_error"].startswith("ops: JSON: ")
    assert SECRET_PATH not in row["last_error"]
    # Apprise logs the URL at DEBUG: its lines stay out of newsmon's log (pytest's capture
    # listens to Apprise's logger directly, so it is left out here).
    assert logging.getLogger("apprise").propagate is False
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("apprise")]
    assert ours and not [line for line in ours if SECRET_PATH in line]

    hook.start()
    hook.script([500])
    assert not deliver_pending(db, config, now=t0 + timedelta(seconds=30))  # backing off
    second = deliver_pending(db, config, now=t0 + timedelta(minutes=1))
    assert second.retrying == 1 and alert_rows(db)[0]["attempts"] == 2
    assert SECRET_PATH not in alert_rows(db)[0]["last_error"]
    third = deliver_pending(db, config, now=t0 + timedelta(minutes=3))
    assert third.sent == 1 and len(hook.posts) == 1
    assert not deliver_pending(db, config, now=t0 + timedelta(hours=1))
    assert len(hook.posts) == 1


def test_a_missing_or_unusable_url_waits_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(APPRISE_ENV, raising=False)
    config, db = setup(tmp_path, channels=[ops(), channel("odd", "apprise", url="nosuch://x/y")])
    save(db, story("deal", "Rare earths deal signed", RARE), ("ops", "odd"))

    report = deliver_pending(db, config)

    assert (report.sent, report.retrying) == (0, 2)
    errors = {r["channel"]: r["last_error"] for r in alert_rows(db)}
    assert errors == {
        "ops": f"ops: Apprise URL not set: environment variable {APPRISE_ENV} is empty",
        "odd": "odd: Apprise cannot use this URL (scheme 'nosuch'): unknown service or missing "
        "parts",
    }


def test_alerts_test_command_on_a_named_apprise_channel(tmp_path: Path, hook: WebhookSink) -> None:
    cfg = str(write_alerts_config(tmp_path, channels=[ops()]))
    runner = CliRunner()

    ok = runner.invoke(cli, ["-c", cfg, "alerts", "test", "ops"])

    assert ok.exit_code == 0, ok.output
    assert "ops: test message sent" in ok.output
    (post,) = hook.posts
    assert (
        post["title"] == "[newsmon] Test message: newsmon test message: alerts reach this channel"
    )
    assert "**newsmon**" in post["message"]
    unknown = runner.invoke(cli, ["-c", cfg, "alerts", "test", "pager"])
    assert unknown.exit_code == 2
    assert "unknown channel 'pager': not configured (configured channels: ops)" in unknown.output
    hook.stop()
    down = runner.invoke(cli, ["-c", cfg, "alerts", "test", "ops"])
    assert down.exit_code == 1 and "ops: JSON:" in down.output and SECRET_PATH not in down.output
