"""A site's learned layout changes how fast a story body is found, never what it is: real
crawls of a WordPress replica with no site rules store exactly what crawls without layouts
store, before and after the site changes its theme, and the layout follows the theme."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

from replica.bulk import bulk
from replica.server import ReplicaServer
from tests.helpers import run_newsmon, write_config

EARLY, LATER = 24, 16  # stories published before and after the redesign


def site_config(folder: Path, base_url: str) -> Path:
    folder.mkdir()
    return write_config(
        folder,
        [
            {
                "name": "press",
                "spider": "generic",
                "url": base_url,
                "sitemaps": [base_url + "sitemap_index.xml"],
                "article_pattern": r"^https?://[^/]+/[a-z0-9-]+-\d+/$",
            }
        ],
    )


def crawl(config: Path, layouts: bool) -> tuple[dict[str, str], int]:
    """Every stored story's text by URL, and how many bodies this crawl read through the
    site's layout (from its log)."""
    result = run_newsmon(
        config,
        *("--log-level", "INFO", "crawl", "--no-deliver"),
        env={"NEWSMON_LAYOUTS": "1" if layouts else "0"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    found = re.search(r"(\d+) story bodies read through the site's layout", result.stderr)
    conn = sqlite3.connect(config.parent / "newsmon.db")
    try:
        return dict(conn.execute("SELECT url, text FROM articles")), int(found[1]) if found else 0
    finally:
        conn.close()


def learned_layout(config: Path) -> str | None:
    conn = sqlite3.connect(config.parent / "newsmon.db")
    try:
        (profile,) = conn.execute(
            "SELECT profile FROM site_profiles WHERE site = 'press'"
        ).fetchone()
    finally:
        conn.close()
    return json.loads(profile).get("layout")


def test_layouts_store_what_the_generic_extractor_stores_across_a_redesign(tmp_path: Path) -> None:
    site = bulk(EARLY + LATER)
    later = [site.remove_story(s.slug) for s in list(site.stories[:LATER])]  # the newest
    with ReplicaServer(site) as server:
        fast = site_config(tmp_path / "layouts", server.base_url)
        plain = site_config(tmp_path / "generic", server.base_url)

        (stored, used), (expected, none) = crawl(fast, True), crawl(plain, False)
        assert len(stored) == EARLY
        assert stored == expected
        # All but the pages that taught it, those already in the extraction pool by then (at
        # most 8) and a check.
        assert used >= EARLY // 2 and none == 0
        before = learned_layout(fast)
        assert before is not None and "entry-content" in before
        assert learned_layout(plain) is None

        site.set_theme("newspaper")
        for story in reversed(later):
            site.add_story(story)
        (stored, _), (expected, _) = crawl(fast, True), crawl(plain, False)
    assert len(stored) == EARLY + LATER
    assert stored == expected  # the stale layout cost no story a word
    after = learned_layout(fast)
    assert after is not None and after != before
