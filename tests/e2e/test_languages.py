"""End to end: watches with aliases across languages and scripts (issue 17). Caliber.az runs
stories in Russian and Azerbaijani, the Coastal Ledger (a generic site) a Japanese page; each
story about a watched topic matches its watch once, through the alias of its language, and
alerts once with that form highlighted; no unrelated story matches; English stories match
exactly what the English query alone matches.

What should match is computed from the replica's own story data with patterns written per
language (never from newsmon's analysis), so a stemming miss or an over-eager stem shows up.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from replica.base import Story
from replica.server import ReplicaServer
from replica.sinks import WebhookSink
from replica.sites import caliber, ledger
from tests.helpers import run_newsmon

WATCHES = [
    {
        "name": "rare-earths",
        "query": '"rare earths"',
        "aliases": ['"редкоземельные металлы"', '"nadir torpaq elementləri"', "レアアース", "稀土"],
    },
    {
        "name": "takaichi",
        "query": "Takaichi",
        "aliases": ["Такаити", "Такаичи", "Takaiçi", "高市早苗", "高市首相"],
    },
]
# Each watch's forms as a reader would spot them, inflections included; the first pattern
# that finds a story names the form newsmon should record.
FORMS = {
    "rare-earths": [
        ('"rare earths"', r"\brare[-\s]+earths?\b"),
        ('"редкоземельные металлы"', r"\bредкоземельн\w*\s+металл\w*"),
        ('"nadir torpaq elementləri"', r"\bnadir\s+torpaq\s+elementlər\w*"),
        ("レアアース", r"レアアース"),
        ("稀土", r"稀土"),
    ],
    "takaichi": [
        ("Takaichi", r"\btakaichi"),
        ("Такаити", r"\bтакаити\b"),
        ("Такаичи", r"\bтакаичи\b"),
        ("Takaiçi", r"\btakaiçi\w*"),
        ("高市早苗", r"高市早苗"),
        ("高市首相", r"高市首相"),
    ],
}


def expected_forms(story: Story) -> dict[str, str]:
    """watch -> the form that should match, from the story as the site wrote it."""
    text = "\n".join([story.title, *story.paragraphs])
    found = {}
    for watch, forms in FORMS.items():
        for form, pattern in forms:
            if re.search(pattern, text, re.I):
                found[watch] = form
                break
    return found


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ReplicaServer]]:
    with ReplicaServer(caliber()) as cal, ReplicaServer(ledger()) as led:
        yield {"caliber": cal, "ledger": led}


@pytest.fixture(scope="module")
def crawled(
    tmp_path_factory: pytest.TempPathFactory, servers: dict[str, ReplicaServer]
) -> Iterator[tuple[Path, WebhookSink]]:
    folder = tmp_path_factory.mktemp("languages")
    with WebhookSink() as hook:
        doc = {
            "database": "newsmon.db",
            "watches": WATCHES,
            "sites": [
                {"name": "caliber", "spider": "caliber", "url": servers["caliber"].base_url},
                {"name": "ledger", "spider": "generic", "url": servers["ledger"].base_url},
            ],
            "alerts": {"slack": {"webhook_url": hook.url, "mode": "instant"}},
        }
        config = folder / "newsmon.yaml"
        config.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
        result = run_newsmon(config, "crawl")
        assert result.returncode == 0, result.stdout + result.stderr
        yield config, hook


def db_rows(config: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(config.parent / "newsmon.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def stored_forms(config: Path) -> dict[str, dict[str, str]]:
    """url -> {watch: matched form} for every stored story."""
    found: dict[str, dict[str, str]] = {
        r["url"]: {} for r in db_rows(config, "SELECT url FROM articles")
    }
    for r in db_rows(
        config,
        "SELECT a.url, m.watch, m.matched_form FROM matches m "
        "JOIN articles a ON a.id = m.article_id",
    ):
        found[r["url"]][r["watch"]] = r["matched_form"]
    return found


def stories(servers: dict[str, ReplicaServer]) -> Iterator[tuple[str, Story]]:
    for server in servers.values():
        for story in server.site.stories:
            yield server.site.name, story


def url_of(found: dict[str, dict[str, str]], story: Story) -> str:
    (url,) = [u for u in found if u.rstrip("/").endswith(story.slug)]
    return url


def test_the_replicas_hold_stories_about_the_topics_in_every_language_and_others(
    servers: dict[str, ReplicaServer],
) -> None:
    about = {(s.language, bool(expected_forms(s))) for _, s in stories(servers)}
    for language in ("ru", "az", "ja"):
        assert (language, True) in about and (language, False) in about, language


def test_every_story_matches_exactly_the_watches_its_own_text_names_through_its_form(
    crawled: tuple[Path, WebhookSink], servers: dict[str, ReplicaServer]
) -> None:
    found = stored_forms(crawled[0])
    for _, story in stories(servers):
        assert found[url_of(found, story)] == expected_forms(story), story.slug


def test_english_stories_match_what_the_english_queries_alone_match(
    crawled: tuple[Path, WebhookSink], servers: dict[str, ReplicaServer]
) -> None:
    found = stored_forms(crawled[0])
    english = [s for _, s in stories(servers) if s.language == "en"]
    assert english
    for story in english:
        assert set(found[url_of(found, story)].values()) <= {'"rare earths"', "Takaichi"}


def test_each_matched_story_alerts_once_with_its_form_highlighted(
    crawled: tuple[Path, WebhookSink], servers: dict[str, ReplicaServer]
) -> None:
    config, hook = crawled
    posts = [json.dumps(p, ensure_ascii=False) for p in hook.posts]
    for site, story in stories(servers):
        expected = expected_forms(story)
        if not expected or story.language == "en":
            continue
        mine = [p for p in posts if story.slug in p]
        assert len(mine) == 1, (site, story.slug, len(mine))
        text = "\n".join([story.title, *story.paragraphs])
        for watch, form in expected.items():
            # Slack shows a matched word in bold: *word*, as written in the story.
            written = {m.group() for m in re.finditer(dict(FORMS[watch])[form], text, re.I)}
            assert any(f"*{w}*" in mine[0] for w in written), (story.slug, watch, written)
    again = run_newsmon(config, "crawl")
    assert again.returncode == 0, again.stderr
    assert len(hook.posts) == len(posts)


def test_search_uses_the_same_rules(crawled: tuple[Path, WebhookSink]) -> None:
    config = crawled[0]

    def found(query: str) -> set[str]:
        result = run_newsmon(config, "search", query, "--json")
        assert result.returncode == 0, result.stderr
        return {s["language"] for s in json.loads(result.stdout)}

    assert found('"редкоземельными металлами"') == {"ru"}
    assert found("高市") == {"ja"}
    assert found('"nadir torpaq elementlərindən"') == {"az"}
    assert found('"rare earths"') == {"en"}
