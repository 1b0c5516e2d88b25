"""Injection: a story page with a hostile title and body, crawled for real and delivered by mail
and Slack, adds no header or recipient, runs no HTML, pings nobody in Slack, stays within
Slack's limits, reaches the terminal without control characters, and keeps the Atom feed
well-formed."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from lxml import etree

from crawler.safe_text import one_line, terminal_safe
from replica.base import Story
from replica.server import ReplicaServer
from replica.sinks import SmtpSink, WebhookSink
from replica.sites import story_path
from tests.helpers import run_newsmon, stored, write_config

EVIL = "http://evil.example/x"
HOSTILE = (
    "\r\nBcc: victim@evil.example\r\nX-Injected: yes\r\n\r\n<script>alert(1)</script> "
    f"<!channel> <!here> <@U0123> <{EVIL}|click me> [click]({EVIL}) "
    "\u202egnp.exe\u202c \x00\x1b[31m"
)
TITLE = "Takaichi " + HOSTILE + " " + "A" * 10_000
BODY = [
    "Takaichi said " + HOSTILE + " and <b>bold</b> &amp; more.",
    "Sanae Takaichi told reporters in Tokyo that the framework covers mining, refining and "
    "recycling of critical minerals, and that talks with partners would continue next month.",
    "Officials said the agreement would be reviewed by parliament before the end of the year, "
    "describing the talks as constructive and detailed, covering investment and shipping.",
]
RECIPIENTS = ["analyst@newsmon.test"]
SLACK_SECTION_LIMIT, SLACK_HEADER_LIMIT, SLACK_MAX_BLOCKS = 3000, 150, 50


def crawl_hostile_story(
    tmp_path: Path, server: ReplicaServer, smtp: SmtpSink, hook: WebhookSink
) -> Path:
    """Publish the hostile story on the replica, crawl it and deliver its alerts."""
    server.site.add_story(
        Story(
            slug="hostile-story",
            title=TITLE,
            author=None,
            published=datetime.now(UTC).replace(microsecond=0),
            paragraphs=BODY,
        )
    )
    config = write_config(
        tmp_path,
        [{"name": "caliber", "spider": "caliber", "url": server.base_url}],
        watches=[{"name": "takaichi", "query": "Takaichi"}],
        alerts={
            "email": {
                "host": "127.0.0.1",
                "port": smtp.port,
                "security": "none",
                "sender": "alerts@newsmon.test",
                "to": RECIPIENTS,
                "mode": "instant",
            },
            "slack": {"webhook_url": hook.url, "mode": "instant"},
        },
    )
    result = run_newsmon(config, "crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    return config


def test_hostile_story_is_delivered_inert_everywhere(
    tmp_path: Path, caliber_server: ReplicaServer
) -> None:
    with SmtpSink() as smtp, WebhookSink() as hook:
        config = crawl_hostile_story(tmp_path, caliber_server, smtp, hook)
        mails = [m for m in smtp.messages if "Takaichi" in str(m.message["Subject"])]
        posts = list(hook.posts)
    url = caliber_server.url(story_path(caliber_server.site.story("hostile-story")))
    title, text = stored(tmp_path / "newsmon.db")[url]
    assert "\r" not in title and "\n" not in title and "\x00" not in title + text
    assert "<script>alert(1)</script>" in text, "stored as written: escaping is the renderers' job"

    check_mail(mails)
    check_slack(posts)
    check_terminal(config)
    check_feed(config)


def check_mail(mails: list) -> None:
    hostile = [m for m in mails if "X-Injected" in str(m.message["Subject"])]
    assert len(hostile) == 1
    received = hostile[0]
    assert received.rcpt_tos == RECIPIENTS
    msg: EmailMessage = received.message
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert set(msg.keys()) <= {
        "Subject",
        "From",
        "To",
        "Date",
        "Message-ID",
        "Auto-Submitted",
        "MIME-Version",
        "Content-Type",
        "Content-Transfer-Encoding",
        "X-Peer",
        "X-MailFrom",
        "X-RcptTo",
    }
    head = received.raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    assert not any(
        line.lower().startswith((b"bcc:", b"x-injected:")) for line in head.split(b"\r\n")
    )
    assert len(str(msg["Subject"])) <= 250
    html_part = msg.get_body(("html",))
    assert html_part is not None
    html = html_part.get_content()  # type: ignore[attr-defined]
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert f'href="{EVIL}' not in html, "a link in article text became a real link"
    assert "\u202e" not in html and "\x1b" not in html


def check_slack(posts: list) -> None:
    hostile = [p for p in posts if "X-Injected" in json.dumps(p)]
    assert len(hostile) == 1
    post = hostile[0]
    assert len(post["blocks"]) <= SLACK_MAX_BLOCKS
    texts = [post["text"]]
    for block in post["blocks"]:
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= SLACK_HEADER_LIMIT
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SLACK_SECTION_LIMIT
            texts.append(block["text"]["text"])
        for element in block.get("elements", []):
            texts.append(element["text"])
    for text in texts:
        for live in ("<!channel>", "<!here>", "<@U0123>", f"<{EVIL}|", "<script>"):
            assert live not in text, (live, text)
    assert any("&lt;!channel&gt;" in text for text in texts)
    # The only Slack link is the story's own, its label escaped.
    links = [t for t in texts if "|" in t and t.count("<http") == 1]
    assert all("evil.example" not in t.split("|")[0] for t in links)


def check_terminal(config: Path) -> None:
    for args in (["articles"], ["search", "Takaichi"], ["status"]):
        result = run_newsmon(config, *args)
        assert result.returncode == 0, result.stderr
        out = result.stdout
        for bad in ("\x1b", "\x00", "\r", "\u202e", "\u202c"):
            assert bad not in out, (args, repr(bad))
        assert not any(
            line.lower().startswith(("bcc:", "x-injected:")) for line in out.splitlines()
        )
        assert max(len(line) for line in out.splitlines()) < 400


def check_feed(config: Path) -> None:
    result = run_newsmon(config, "feed")
    assert result.returncode == 0, result.stderr
    root = etree.fromstring(result.stdout.encode())  # raises if not well-formed
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = root.xpath("//a:entry/a:title/text()", namespaces=ns)
    assert any("<script>alert(1)</script>" in t for t in titles), "shown as text, escaped"
    assert not root.xpath("//script")


def test_unicode_line_separators_and_bidi_marks_cannot_fake_lines() -> None:
    hostile = "Takaichi\u2028FAKE: line\u2029\u061c\u200fend\x85"
    assert terminal_safe(hostile) == "Takaichi FAKE: line end"
    assert terminal_safe(hostile, keep_newlines=True) == "Takaichi\nFAKE: line\nend"
    assert one_line(hostile) == "Takaichi FAKE: line end"
