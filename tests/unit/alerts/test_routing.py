"""Routing: each watch alerts only its channels, and each channel's alert lists only the
watches routed to it; delivered for real to a local SMTP server and two local webhooks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlite_utils

from crawler.alerts.delivery import deliver_pending
from crawler.config import Config
from replica.sinks import SmtpSink, WebhookSink
from tests.helpers import (
    APPRISE_ENV,
    RARE,
    TAKAICHI,
    WEBHOOK_ENV,
    alert_rows,
    channel,
    email_cfg,
    save_routed,
    setup,
    slack_cfg,
    story,
    subject,
)


@dataclass
class Desks:
    smtp: SmtpSink
    slack: WebhookSink
    hook: WebhookSink


@pytest.fixture
def desks(monkeypatch: pytest.MonkeyPatch) -> Iterator[Desks]:
    with SmtpSink() as smtp, WebhookSink() as slack, WebhookSink() as hook:
        monkeypatch.setenv(WEBHOOK_ENV, slack.url)
        monkeypatch.setenv(APPRISE_ENV, hook.apprise_url("json"))
        yield Desks(smtp, slack, hook)


ROUTES = {"rare-earths": ["morning-mail", "ops-hook"], "takaichi": ["japan-desk", "ops-hook"]}


def three_channels(
    tmp_path: Path, desks: Desks, routes: dict[str, list[str]] = ROUTES
) -> tuple[Config, sqlite_utils.Database]:
    """rare-earths -> morning-mail + ops-hook; takaichi -> japan-desk + ops-hook."""
    return setup(
        tmp_path,
        routes,
        channels=[
            channel("morning-mail", "email", **email_cfg(desks.smtp.port, "digest")),
            channel("japan-desk", "slack", **slack_cfg("instant")),
            channel("ops-hook", "apprise", url_env=APPRISE_ENV),
        ],
    )


STORIES = [
    story("a", "Rare earths deal", RARE),
    story("b", "PM in Tokyo", TAKAICHI),
    story("c", "Both", f"{RARE} {TAKAICHI}"),
]


def test_each_watch_reaches_only_its_channels_exactly_once(tmp_path: Path, desks: Desks) -> None:
    config, db = three_channels(tmp_path, desks)
    save_routed(db, config, *STORIES)

    queued = {(r["article_id"], r["channel"], r["watches"]) for r in alert_rows(db)}
    assert queued == {
        (1, "morning-mail", "rare-earths"),
        (1, "ops-hook", "rare-earths"),
        (2, "japan-desk", "takaichi"),
        (2, "ops-hook", "takaichi"),
        (3, "morning-mail", "rare-earths"),
        (3, "japan-desk", "takaichi"),
        (3, "ops-hook", "rare-earths,takaichi"),
    }

    report = deliver_pending(db, config)

    assert (report.sent, report.failed, report.pending) == (7, 0, 0)
    # The mail desk: one digest with the two rare-earths stories, naming only its watch.
    (mail,) = desks.smtp.messages
    assert subject(mail.message) == "[newsmon] 2 stories matching rare-earths"
    # The Japan desk: one post per Takaichi story; the story matching both highlights only
    # the Takaichi match and names only that watch.
    assert [p["text"] for p in desks.slack.posts] == ["New story: PM in Tokyo", "New story: Both"]
    both = desks.slack.posts[1]["blocks"]
    assert both[-1]["elements"][0]["text"] == "Watches: *takaichi*"
    passage = both[2]["text"]["text"]
    assert "*Takaichi*" in passage and "rare earths" in passage and "*rare earths*" not in passage
    # The ops hook: every story, each once.
    assert [p["title"] for p in desks.hook.posts] == [
        "[newsmon] rare-earths: Rare earths deal",
        "[newsmon] takaichi: PM in Tokyo",
        "[newsmon] rare-earths, takaichi: Both",
    ]

    save_routed(db, config, *STORIES)  # re-crawled unchanged
    assert len(alert_rows(db)) == 7
    assert not deliver_pending(db, config)
    sent = (len(desks.smtp.messages), len(desks.slack.posts), len(desks.hook.posts))
    assert sent == (1, 2, 3)


def test_an_edit_is_changed_where_the_story_was_shown_and_new_elsewhere(
    tmp_path: Path, desks: Desks
) -> None:
    config, db = three_channels(tmp_path, desks)
    save_routed(db, config, story("d", "Rare earths deal", RARE))
    deliver_pending(db, config)

    # Edited: it now also names Takaichi, which the Japan desk has not seen the story for.
    save_routed(db, config, story("d", "Rare earths deal", f"{RARE} {TAKAICHI}"))

    v2 = {r["channel"]: (r["kind"], r["watches"]) for r in alert_rows(db) if r["version"] == 2}
    assert v2 == {
        "morning-mail": ("changed", "rare-earths"),
        "japan-desk": ("new", "takaichi"),
        "ops-hook": ("changed", "rare-earths,takaichi"),
    }
    assert deliver_pending(db, config).sent == 3
    assert desks.slack.posts[-1]["text"] == "New story: Rare earths deal"
    assert (
        desks.hook.posts[-1]["title"]
        == "[newsmon] rare-earths, takaichi (changed): Rare earths deal"
    )


def test_a_watch_routed_nowhere_is_matched_but_alerts_no_one(tmp_path: Path, desks: Desks) -> None:
    config, db = three_channels(tmp_path, desks, {"rare-earths": [], "takaichi": []})
    (saved,) = save_routed(db, config, STORIES[2])

    assert saved.matched == ("rare-earths", "takaichi")
    assert alert_rows(db) == []
