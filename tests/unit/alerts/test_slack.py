"""Slack alerts posted to a real local HTTP endpoint acting as an incoming webhook."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from crawler.alerts.base import Alert
from crawler.alerts.delivery import deliver_pending
from crawler.alerts.slack_blocks import MAX_BLOCKS, SECTION_LIMIT, payloads
from crawler.cli import cli
from replica.sinks import WebhookSink
from tests.helpers import (
    HOSTILE_TITLE,
    RARE,
    TAKAICHI,
    WEBHOOK_ENV,
    alert_rows,
    save,
    setup,
    slack_cfg,
    story,
    write_alerts_config,
)

SLACK = ("slack",)
SECRET = "s3cr3tW3bh00kT0k3n"


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[WebhookSink]:
    with WebhookSink() as sink:
        monkeypatch.setenv(WEBHOOK_ENV, sink.url)
        yield sink


def texts(post: dict) -> list[str]:
    """Every mrkdwn/plain text in a post, in order."""
    out = [post["text"]]
    for block in post["blocks"]:
        if "text" in block:
            out.append(block["text"]["text"])
        out += [e["text"] for e in block.get("elements", [])]
    return out


def test_instant_post_is_block_kit_with_link_snippet_and_watches(
    tmp_path: Path, hook: WebhookSink
) -> None:
    config, db = setup(tmp_path, slack=slack_cfg("instant"))
    save(db, story("deal", "Rare earths deal signed", RARE), SLACK)
    save(db, story("pm", "New PM meets delegation", TAKAICHI), SLACK)

    assert deliver_pending(db, config).sent == 2

    assert len(hook.posts) == 2
    post = hook.posts[0]
    assert post["text"] == "New story: Rare earths deal signed"
    assert post["unfurl_links"] is False
    assert [b["type"] for b in post["blocks"]] == ["header", "section", "section", "context"]
    header, title, snippet, context = post["blocks"]
    assert header["text"] == {"type": "plain_text", "text": "New story", "emoji": False}
    assert title["text"] == {
        "type": "mrkdwn",
        "text": "*<https://caliber.az/en/post/deal|Rare earths deal signed>*\n"
        "caliber · 2025-10-28 10:06 +04:00",
    }
    assert snippet["text"]["text"].startswith(">")
    assert "*Rare earths*" in snippet["text"]["text"]
    assert context["elements"] == [{"type": "mrkdwn", "text": "Watches: *rare-earths*"}]
    assert "Prime Minister *Takaichi* met" in hook.posts[1]["blocks"][2]["text"]["text"]
    assert hook.requests[0][1]["Content-Type"].startswith("application/json")


def test_digest_is_split_to_fit_the_block_limit(tmp_path: Path, hook: WebhookSink) -> None:
    config, db = setup(tmp_path, slack=slack_cfg("digest"))
    for i in range(13):
        save(db, story(f"s{i}", f"Rare earths story {i}", f"Story {i}. {RARE}"), SLACK)

    report = deliver_pending(db, config)

    assert report.sent == 13 and len(hook.posts) == 2
    headers = [p["blocks"][0]["text"]["text"] for p in hook.posts]
    assert headers == [
        "13 stories matching rare-earths (part 1 of 2)",
        "13 stories matching rare-earths (part 2 of 2)",
    ]
    links = [t for p in hook.posts for t in texts(p)[1:] if t.startswith("*<https://")]
    assert len(links) == 13 and len(set(links)) == 13
    for post in hook.posts:
        assert len(post["blocks"]) <= MAX_BLOCKS
    assert not deliver_pending(db, config) and len(hook.posts) == 2


def test_huge_digest_respects_section_and_block_limits() -> None:
    long_snippet = "word " * 1000 + "**rare earths** " + "&<> " * 500
    alerts = [
        Alert(id=i, kind="new", title=f"T{i} " + "x" * 400, site="s", url=f"https://s.test/{i}",
              watches=("w",), snippets=(long_snippet, long_snippet + "2"))
        for i in range(40)
    ]  # fmt: skip
    posts = payloads(alerts, digest=True)
    assert len(posts) > 1
    assert sorted(a.id for carried, _ in posts for a in carried) == list(range(40))
    for _, body in posts:
        assert len(body["blocks"]) <= MAX_BLOCKS
        assert len(json.dumps(body)) < 40_000
        for block in body["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= SECTION_LIMIT


def test_hostile_title_is_escaped(tmp_path: Path, hook: WebhookSink) -> None:
    config, db = setup(tmp_path, slack=slack_cfg("instant"))
    save(db, story("evil", HOSTILE_TITLE, RARE), SLACK)

    deliver_pending(db, config)

    (post,) = hook.posts
    all_text = "\n".join(texts(post))
    assert "<!channel>" not in all_text and "<http://x|y>" not in all_text
    assert "<script>" not in all_text
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; &lt;http://x|y&gt;"
    assert post["blocks"][1]["text"]["text"].startswith(
        f"*<https://caliber.az/en/post/evil|Evil Bcc: x@evil.test {escaped}>*"
    )
    assert escaped in post["text"]


def test_500_twice_then_200_delivers_each_alert_once(tmp_path: Path, hook: WebhookSink) -> None:
    config, db = setup(tmp_path, slack=slack_cfg("instant"))
    save(db, story("a", "Rare earths deal", RARE), SLACK)
    save(db, story("b", "PM in Tokyo", TAKAICHI), SLACK)
    hook.script([500, 500, 200])
    t0 = datetime.now(UTC) + timedelta(seconds=1)

    first = deliver_pending(db, config, now=t0)
    assert (first.sent, first.pending) == (0, 2)
    assert "slack: HTTP 500 from 127.0.0.1" in str(first)
    rows = alert_rows(db)
    assert [(r["status"], r["attempts"]) for r in rows] == [("pending", 1)] * 2
    assert (
        rows[0]["next_attempt_at"] == (t0 + timedelta(minutes=1)).replace(microsecond=0).isoformat()
    )

    assert not deliver_pending(db, config, now=t0 + timedelta(seconds=30))  # still backing off
    second = deliver_pending(db, config, now=t0 + timedelta(minutes=1))
    assert second.sent == 0 and [r["attempts"] for r in alert_rows(db)] == [2, 2]
    assert not deliver_pending(db, config, now=t0 + timedelta(minutes=2))  # backoff doubled
    third = deliver_pending(db, config, now=t0 + timedelta(minutes=3))
    assert (third.sent, third.failed, third.pending) == (2, 0, 0)

    assert len(hook.posts) == 2 and len(hook.requests) == 4
    rows = alert_rows(db)
    assert [(r["status"], r["attempts"], r["last_error"]) for r in rows] == [("sent", 3, None)] * 2
    assert not deliver_pending(db, config, now=t0 + timedelta(hours=1))
    assert len(hook.requests) == 4


def test_gives_up_after_max_attempts(tmp_path: Path, hook: WebhookSink) -> None:
    config, db = setup(tmp_path, slack=slack_cfg("instant"))  # max_attempts: 4
    save(db, story("a", "Rare earths deal", RARE), SLACK)
    hook.script([503] * 10)
    now = datetime.now(UTC) + timedelta(seconds=1)
    for _ in range(4):
        deliver_pending(db, config, now=now)
        now += timedelta(hours=7)  # past any backoff (capped at 6h)
    (row,) = alert_rows(db)
    assert (row["status"], row["attempts"]) == ("failed", 4)
    assert "HTTP 503" in row["last_error"]
    assert not deliver_pending(db, config, now=now)


def test_404_webhook_fails_at_once_without_leaking_the_url(
    tmp_path: Path, hook: WebhookSink
) -> None:
    config, db = setup(tmp_path, slack=slack_cfg("instant"))
    save(db, story("a", "Rare earths deal", RARE), SLACK)
    hook.script([404])

    report = deliver_pending(db, config)

    (row,) = alert_rows(db)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert row["last_error"] == (
        f"slack: HTTP 404 from 127.0.0.1:{hook.port}: no_service "
        "(permanent: the webhook URL is wrong, revoked, or its channel is gone)"
    )
    assert report.failed == 1 and SECRET not in str(report)

    save(db, story("b", "PM in Tokyo", TAKAICHI), SLACK)
    hook.script([(403, "invalid_token")])
    cfg = str(tmp_path / "newsmon.yaml")
    result = CliRunner().invoke(cli, ["-c", cfg, "alerts", "flush"])
    assert "alerts: 0 sent, 1 failed, 0 pending" in result.output
    assert "HTTP 403" in result.output and "invalid_token" in result.output
    assert SECRET not in result.output and "/services/" not in result.output


def test_webhook_down_is_transient_and_names_only_the_host(
    tmp_path: Path, hook: WebhookSink
) -> None:
    config, db = setup(tmp_path, slack=slack_cfg("instant"))
    save(db, story("a", "Rare earths deal", RARE), SLACK)
    hook.stop()

    deliver_pending(db, config)

    (row,) = alert_rows(db)
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["last_error"].startswith(f"slack: 127.0.0.1:{hook.port}: ")
    assert "refused" in row["last_error"] and SECRET not in row["last_error"]

    hook.start()
    assert deliver_pending(db, config, everything=True).sent == 1
    assert len(hook.posts) == 1


def test_alerts_test_command(tmp_path: Path, hook: WebhookSink) -> None:
    cfg = str(write_alerts_config(tmp_path, slack=slack_cfg()))
    runner = CliRunner()

    ok = runner.invoke(cli, ["-c", cfg, "alerts", "test", "slack"])
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip() == "slack: test message sent"
    (post,) = hook.posts
    assert post["blocks"][0]["text"]["text"] == "Test message"
    assert "*newsmon*" in post["blocks"][2]["text"]["text"]

    hook.script([(410, "channel_is_archived")])
    gone = runner.invoke(cli, ["-c", cfg, "alerts", "test", "slack"])
    assert gone.exit_code == 1
    assert "HTTP 410" in gone.output and "channel_is_archived" in gone.output
    assert SECRET not in gone.output

    hook.stop()
    down = runner.invoke(cli, ["-c", cfg, "alerts", "test", "slack"])
    assert down.exit_code == 1 and "refused" in down.output and SECRET not in down.output


def test_missing_webhook_variable_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    cfg = str(write_alerts_config(tmp_path, slack=slack_cfg()))
    result = CliRunner().invoke(cli, ["-c", cfg, "alerts", "test", "slack"])
    assert result.exit_code == 1
    assert f"environment variable {WEBHOOK_ENV} is empty" in result.output
