"""End to end: `newsmon crawl` as a real process against the replica sites, then the record.

What should match is computed from the replica's own story data (title and paragraphs as
written), never from newsmon's extraction, so junk that leaks into a body shows up as a
false match and lost paragraphs as a missed one.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from replica.server import ReplicaServer
from replica.sites import caliber, eqmint
from tests.helpers import run_newsmon, seed_sites, write_config

RARE_EARTHS = re.compile(r"\brare[-\s]+earths?\b", re.I)
TAKAICHI = re.compile(r"\btakaichi", re.I)


def expected_watches(story: object) -> list[str]:
    text = "\n".join([story.title, *story.paragraphs])  # type: ignore[attr-defined]
    found = []
    if RARE_EARTHS.search(text):
        found.append("rare-earths")
    if TAKAICHI.search(text):
        found.append("takaichi")
    return found


def db_rows(config: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(config.parent / "newsmon.db")
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One crawl of both replica sites, shared by the tests that read its record; the
    replicas stay up for the tests that crawl again (on a copy)."""
    with ReplicaServer(caliber()) as cal, ReplicaServer(eqmint()) as eqm:
        config = write_config(tmp_path_factory.mktemp("crawl"), seed_sites(cal, eqm))
        result = run_newsmon(config, "crawl")
        assert result.returncode == 0, result.stdout + result.stderr
        yield config


@pytest.fixture
def crawled_copy(crawled: Path, tmp_path: Path) -> Path:
    """A private copy of the crawled folder (config and database), for tests that write."""
    for path in crawled.parent.iterdir():
        if path.is_file():
            shutil.copy2(path, tmp_path / path.name)
    return tmp_path / crawled.name


def test_every_story_lands_with_exactly_the_watches_its_own_text_matches(
    crawled: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> None:
    stories = json.loads(run_newsmon(crawled, "articles", "--all", "--json").stdout)
    by_url = {s["url"]: s for s in stories}
    for server in (caliber_server, eqmint_server):
        for story in server.site.stories:
            stored = [s for url, s in by_url.items() if url.rstrip("/").endswith(story.slug)]
            assert stored, f"{server.site.name} story not stored: {story.slug}"
            assert stored[0]["watches"] == expected_watches(story), story.slug
            assert stored[0]["title"] == story.title


def test_sidebar_related_and_comment_keywords_do_not_match(
    crawled: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> None:
    # Stories whose own text lacks a watch's words, while their pages show those words in a
    # sidebar, a related-posts block or a reader comment.
    unrelated = [
        s.slug
        for server in (caliber_server, eqmint_server)
        for s in server.site.stories
        if s.language == "en" and not expected_watches(s)
    ]
    assert len(unrelated) >= 4
    matched = {
        r["url"]
        for r in db_rows(
            crawled, "SELECT a.url FROM matches m JOIN articles a ON a.id = m.article_id"
        )
    }
    assert not [slug for slug in unrelated if any(u.rstrip("/").endswith(slug) for u in matched)]


def test_articles_json_has_the_story_object_of_the_spec(crawled: Path) -> None:
    stories = json.loads(run_newsmon(crawled, "articles", "--watch", "takaichi", "--json").stdout)
    assert stories and all("takaichi" in s["watches"] for s in stories)
    keys = {
        "url",
        "site",
        "title",
        "author",
        "published",
        "language",
        "text",
        "watches",
        "version",
        "duplicate_of",
        "first_seen",
    }
    assert all(keys <= set(s) for s in stories)
    published = [s["published"] for s in stories]
    assert published == sorted(published, reverse=True), "newest first"
    seed = next(s for s in stories if s["site"] == "eqmint" and "Sanae Takaichi" in s["title"])
    assert seed["author"] == "Aditya Pareek"
    assert seed["published"] == "2025-11-03T15:30:00+05:30"
    assert seed["version"] == 1 and seed["duplicate_of"] is None


def test_other_languages_found_through_rss_keep_their_language(crawled: Path) -> None:
    rows = db_rows(crawled, "SELECT url, language FROM articles WHERE site = 'caliber'")
    languages = {r["url"].split("/", 3)[3].split("/")[0]: r["language"] for r in rows}
    assert languages.get("post") == "ru"
    assert languages.get("en") == "en"
    assert languages.get("az") == "az"


def test_second_crawl_adds_nothing_and_changes_no_story(crawled_copy: Path) -> None:
    before = db_rows(
        crawled_copy, "SELECT id, url, version, content_hash, text FROM articles ORDER BY id"
    )
    again = run_newsmon(crawled_copy, "crawl")
    assert again.returncode == 0, again.stderr
    after = db_rows(
        crawled_copy, "SELECT id, url, version, content_hash, text FROM articles ORDER BY id"
    )
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    runs = db_rows(crawled_copy, "SELECT * FROM runs ORDER BY id")
    assert [r["status"] for r in runs] == ["ok"] * 4
    assert all(r["articles_new"] == 0 and r["articles_changed"] == 0 for r in runs[2:])
    assert "new 0  changed 0" in again.stdout


def test_summary_per_site(crawled: Path) -> None:
    runs = db_rows(crawled, "SELECT site, pages, articles_new, matches FROM runs ORDER BY id")
    assert {r["site"] for r in runs} == {"caliber", "eqmint"}
    assert all(r["articles_new"] > 5 and r["matches"] > 3 for r in runs)


def test_unreachable_site_fails_alone(tmp_path: Path, caliber_server: ReplicaServer) -> None:
    config = write_config(
        tmp_path,
        [
            {
                "name": "down",
                "spider": "generic",
                "url": "http://127.0.0.1:9/",
                "feeds": ["http://127.0.0.1:9/rss.xml"],
            },
            {"name": "caliber", "spider": "caliber", "url": caliber_server.base_url},
        ],
    )
    result = run_newsmon(config, "crawl")
    assert result.returncode == 1
    down_lines = [
        line for line in (result.stdout + result.stderr).splitlines() if line.startswith("  down:")
    ]
    assert len(down_lines) == 1 and "every discovery source failed" in down_lines[0]
    runs = {r["site"]: r for r in db_rows(config, "SELECT * FROM runs")}
    assert runs["down"]["status"] == "error"
    assert "Connection" in runs["down"]["error"] or "refused" in runs["down"]["error"]
    assert runs["caliber"]["status"] == "ok" and runs["caliber"]["articles_new"] > 5
