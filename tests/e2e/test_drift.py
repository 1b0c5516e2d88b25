"""Site rules are hints, not gates: a seed site that changes its theme loses no story, and its
drift is noticed once, through the real alert channels, and its end once.

What must be stored is computed from the replica's own story data (title, paragraphs, dates as
written), never from newsmon's extraction under the old theme.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from replica.base import Story as ReplicaStory
from replica.server import ReplicaServer
from replica.sinks import SmtpSink, WebhookSink
from replica.sites import caliber, eqmint
from replica.stories import load_stories
from tests.helpers import Reply as StaticReply
from tests.helpers import (
    StaticSite,
    article_page,
    email_cfg,
    filler,
    run_newsmon,
    sitemap,
    write_config,
)

# The theme each seed replica switches to: other classes and wrappers, same content, feeds
# and metadata.
OTHER_THEME = {"caliber": "redesign", "eqmint": "newspaper"}
SITES = {"caliber": caliber, "eqmint": eqmint}
SECTION = {"caliber": "World", "eqmint": "Finance News"}


def texts() -> list[list[str]]:
    """The paragraphs of 20 distinct real-looking stories (no two near-duplicates)."""
    return [
        list(s.paragraphs) for name in ("courier", "ledger", "kestrel") for s in load_stories(name)
    ]


class Watched:
    """A seed replica crawled by `newsmon crawl` with real SMTP and webhook sinks."""

    def __init__(
        self, name: str, tmp: Path, server: ReplicaServer, smtp: SmtpSink, hook: WebhookSink
    ):
        self.name, self.server, self.smtp, self.hook = name, server, smtp, hook
        self.config = write_config(
            tmp,
            [{"name": name, "spider": name, "url": server.base_url}],
            alerts={
                "email": email_cfg(smtp.port),
                "slack": {"webhook_url": hook.url, "mode": "instant", "timeout": 5},
            },
        )
        self.db = tmp / "newsmon.db"
        self.added = 0

    def crawl(self) -> str:
        result = run_newsmon(self.config, "crawl", self.name)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def add_stories(self, count: int) -> list[ReplicaStory]:
        """New English stories, published in the last minutes, with real distinct text."""
        now = datetime.now(UTC).replace(second=0, microsecond=0)  # Caliber shows minutes
        added = []
        for _ in range(count):
            self.added += 1
            n = self.added
            paragraphs = texts()[n]
            story = ReplicaStory(
                slug=f"drift-check-story-number-{n}",
                title=f"Drift check story number {n}: {paragraphs[0][:40].strip()}",
                author="Meera Iyer" if self.name == "eqmint" else None,
                published=now - timedelta(minutes=n),
                section=SECTION[self.name],
                paragraphs=paragraphs,
            )
            added.append(self.server.site.add_story(story))
        return added

    def status(self) -> dict:
        result = run_newsmon(self.config, "status", "--json")
        return next(s for s in json.loads(result.stdout) if s["site"] == self.name)

    def notices(self) -> dict[str, list[str]]:
        """The health notices each channel received: mail subjects, Slack texts."""
        mails = [
            " ".join(str(m.message["Subject"]).split())
            for m in self.smtp.messages
            if "Site health" in str(m.message["Subject"])
            or "Site recovered" in str(m.message["Subject"])
        ]
        posts = [
            json.dumps(p)
            for p in self.hook.posts
            if "Site health" in json.dumps(p) or "Site recovered" in json.dumps(p)
        ]
        return {"email": mails, "slack": posts}

    def stored(self, story: ReplicaStory) -> sqlite3.Row:
        conn = sqlite3.connect(self.db)
        conn.row_factory = sqlite3.Row
        try:
            rows = conn.execute("SELECT * FROM articles WHERE site = ?", (self.name,)).fetchall()
        finally:
            conn.close()
        found = [r for r in rows if r["url"].rstrip("/").endswith("/" + story.slug)]
        assert len(found) == 1, f"{self.name}: {story.slug} stored {len(found)} times"
        return found[0]

    def last_run(self) -> sqlite3.Row:
        conn = sqlite3.connect(self.db)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()
        finally:
            conn.close()


@pytest.fixture(params=sorted(SITES))
def watched(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Watched]:
    name = request.param
    with ReplicaServer(SITES[name]()) as server, SmtpSink() as smtp, WebhookSink() as hook:
        yield Watched(name, tmp_path, server, smtp, hook)


def assert_stored_as_written(watched: Watched, stories: list[ReplicaStory]) -> None:
    for story in stories:
        row = watched.stored(story)
        assert row["title"] == story.title
        assert row["text"] == "\n\n".join(story.paragraphs), story.slug
        assert datetime.fromisoformat(row["published"]) == story.published, story.slug
        if story.author:
            assert row["author"] == story.author


def test_a_theme_switch_loses_no_story_and_raises_one_drift_notice(watched: Watched) -> None:
    site = watched.server.site
    first = watched.crawl()
    assert "health" not in first
    assert watched.notices() == {"email": [], "slack": []}
    assert watched.status()["health"] == "ok"

    site.set_theme(OTHER_THEME[watched.name])
    added = watched.add_stories(4)
    edited = site.edit_story(
        site.listed("en")[-1].slug, paragraphs=[*site.listed("en")[-1].paragraphs, "A late fix."]
    )
    out = watched.crawl()
    assert_stored_as_written(watched, [*added, edited])
    assert watched.stored(edited)["version"] == 2
    assert all(watched.stored(s)["duplicate_of"] is None for s in added)
    run = watched.last_run()
    assert run["fallbacks"] >= 4 and run["rules_full"] == 0
    assert {"container", "title", "body"} <= set(json.loads(run["fallback_fields"]))
    assert f"{watched.name}: health drifted: " in out
    notices = watched.notices()
    assert len(notices["email"]) == 1 and len(notices["slack"]) == 1
    assert (
        "story pages no longer match the site's rules; stored with generic extraction"
        in (notices["email"][0])
    )
    status = watched.status()
    assert status["health"] == "drifted"
    assert status["fallbacks"] == run["fallbacks"]

    # Still the other theme: still stored right, still the one notice.
    more = watched.add_stories(3)
    watched.crawl()
    assert_stored_as_written(watched, more)
    assert {k: len(v) for k, v in watched.notices().items()} == {"email": 1, "slack": 1}

    site.set_theme("classic")
    back = watched.add_stories(3)
    out = watched.crawl()
    assert_stored_as_written(watched, back)
    assert f"{watched.name}: health ok: the site's rules match again" in out
    notices = watched.notices()
    assert [("recovered" in s.lower()) for s in notices["email"]] == [False, True]
    assert len(notices["slack"]) == 2 and "Site recovered" in notices["slack"][1]
    assert watched.status()["health"] == "ok"
    # Not one story of the site lost, and no story changed by the theme alone.
    for story in site.stories:
        assert watched.stored(story)["version"] == (2 if story is edited else 1)


def test_a_first_crawl_of_a_site_in_another_theme_stores_every_story(tmp_path: Path) -> None:
    """The issue's report: a site whose theme is not the one the rules were written for."""
    site = eqmint()
    site.set_theme("newspaper")
    with ReplicaServer(site) as server, WebhookSink() as hook:
        config = write_config(
            tmp_path,
            [{"name": "eqmint", "spider": "eqmint", "url": server.base_url}],
            alerts={"slack": {"webhook_url": hook.url, "mode": "digest", "timeout": 5}},
        )
        result = run_newsmon(config, "crawl")
        assert result.returncode == 0, result.stderr
        conn = sqlite3.connect(tmp_path / "newsmon.db")
        titles = {t for (t,) in conn.execute("SELECT title FROM articles")}
        conn.close()
        assert titles == {s.title for s in site.stories}
        health = [p for p in hook.posts if "Site health" in json.dumps(p)]
    assert len(health) == 1
    expected = f"{len(site.stories)} of {len(site.stories)} story pages no longer match"
    assert expected in json.dumps(health[0])
    assert "eqmint: health drifted" in result.stdout


def generic_site(stories: dict[str, str]) -> dict[str, StaticReply]:
    """A site with an RSS feed listing these (path -> title) stories, each page an article."""
    items = "".join(
        f"<item><title>{title}</title><link>{{origin}}{path}</link>"
        f"<pubDate>Mon, 03 Nov 2025 10:0{i % 10}:00 +0000</pubDate></item>"
        for i, (path, title) in enumerate(stories.items())
    )
    routes = {
        path: StaticReply(article_page(title, filler(i)).encode())
        for i, (path, title) in enumerate(stories.items())
    }
    routes["/rss.xml"] = StaticReply(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}'
        "</channel></rss>".encode(),
        "application/rss+xml",
    )
    routes["/sitemap.xml"] = StaticReply(sitemap([]), "application/xml")
    return routes


def test_a_generic_site_that_moves_its_stories_to_new_urls_drifts_but_loses_none(
    tmp_path: Path,
) -> None:
    old = {f"/2025/11/story-{n}/": f"Old scheme story {n}" for n in range(3)}
    moved = {f"/news/story-{n}": f"New scheme story {n}" for n in range(3, 7)}
    with StaticSite() as server, WebhookSink() as hook:

        def serve(stories: dict[str, str]) -> None:
            routes = generic_site(stories)
            feed = routes["/rss.xml"]
            feed.body = feed.body.replace(b"{origin}", server.origin.encode())
            server.routes = routes

        serve(old)
        config = write_config(
            tmp_path,
            [
                {
                    "name": "moving",
                    "spider": "generic",
                    "url": server.url("/"),
                    "feeds": [server.url("/rss.xml")],
                    "sitemaps": [],
                    "article_pattern": r"/\d{4}/\d{2}/[^/]+/$",
                }
            ],
            alerts={"slack": {"webhook_url": hook.url, "mode": "instant", "timeout": 5}},
        )
        assert run_newsmon(config, "crawl").returncode == 0
        serve({**old, **moved})
        result = run_newsmon(config, "crawl")
        assert result.returncode == 0, result.stderr
        conn = sqlite3.connect(tmp_path / "newsmon.db")
        titles = {t for (t,) in conn.execute("SELECT title FROM articles")}
        listed, off = conn.execute(
            "SELECT listed, off_pattern FROM runs ORDER BY id DESC LIMIT 1"
        ).fetchone()
        conn.close()
        health = [json.dumps(p) for p in hook.posts if "Site health" in json.dumps(p)]
    assert titles == {*old.values(), *moved.values()}
    assert (listed, off) == (7, 4)
    assert len(health) == 1
    assert "4 of 7 stories its feeds list no longer match its article_pattern" in health[0]
