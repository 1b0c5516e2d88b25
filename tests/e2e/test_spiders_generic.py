"""The generic spider on three sites no spider knows, configured with a line or two of YAML:
the Coastal Ledger (Atom + Google News sitemap, found by autodiscovery), the Kestrel Valley
Gazette (WordPress without a feed: REST API and wp-sitemap, found by autodiscovery) and the
Southern Courier (listing pages only). One `newsmon crawl` process crawls all three."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from replica import courier_site, kestrel_site, ledger_site
from replica.server import ReplicaServer
from tests.helpers import run_newsmon, write_config

PATHS = {
    "ledger": ledger_site.story_path,
    "kestrel": kestrel_site.story_path,
    "courier": courier_site.story_path,
}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, servers: dict[str, ReplicaServer]) -> Path:
    sections = [servers["courier"].url(f"/section/{s}/") for s in ("world", "business", "science")]
    config = write_config(
        tmp_path_factory.mktemp("generic"),
        [
            {"name": "ledger", "spider": "generic", "url": servers["ledger"].base_url},
            {"name": "kestrel", "spider": "generic", "url": servers["kestrel"].base_url},
            {
                "name": "courier",
                "spider": "generic",
                "url": servers["courier"].base_url,
                "listings": sections,
            },
        ],
    )
    result = run_newsmon(config, "crawl", "--no-deliver")
    assert result.returncode == 0, result.stdout + result.stderr
    return config


def rows(config: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(config.parent / "newsmon.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("name", ["ledger", "kestrel", "courier"])
def test_every_story_is_found_and_extracted(
    crawled: Path, servers: dict[str, ReplicaServer], name: str
) -> None:
    server = servers[name]
    stored = dict(rows(crawled, "SELECT url, title FROM articles WHERE site = ?", name))
    expected = {server.url(PATHS[name](s)): s.title for s in server.site.stories}
    assert stored == expected
    (status,) = rows(crawled, "SELECT status FROM runs WHERE site = ?", name)
    assert status == ("ok",)


def test_bodies_and_authors_come_from_the_pages(
    crawled: Path, servers: dict[str, ReplicaServer]
) -> None:
    for name, server in servers.items():
        for story in server.site.stories:
            ((author, text),) = rows(
                crawled,
                "SELECT author, text FROM articles WHERE url = ?",
                server.url(PATHS[name](story)),
            )
            assert text == "\n\n".join(story.paragraphs)
            assert author == story.author


def test_autodiscovery_finds_the_feed_the_news_sitemap_and_wordpress(
    crawled: Path, servers: dict[str, ReplicaServer]
) -> None:
    ledger_ok = {r.path for r in servers["ledger"].requests if r.status == 200}
    assert {"/atom.xml", "/news-sitemap.xml"} <= ledger_ok  # rel=alternate, robots.txt
    kestrel_ok = {r.path for r in servers["kestrel"].requests if r.status == 200}
    assert {"/wp-sitemap.xml", "/wp-sitemap-posts-post-1.xml"} <= kestrel_ok
    searches = {p for p in kestrel_ok if "search=" in p}
    fields = "&_fields=link,title,date_gmt,modified_gmt"  # only what discovery reads
    assert searches == {
        "/wp-json/wp/v2/posts?search=rare%20earths&per_page=100" + fields,
        "/wp-json/wp/v2/posts?search=Takaichi&per_page=100" + fields,
    }


def test_pages_that_are_not_stories_are_remembered(crawled: Path) -> None:
    skipped = {url.split("/", 3)[3] for (url,) in rows(crawled, "SELECT url FROM skipped_urls")}
    assert "about/" in skipped
    stored = {url for (url,) in rows(crawled, "SELECT url FROM articles")}
    assert not [u for u in stored if u.endswith("/about/")]


def test_watches_match_the_generic_sites_stories(crawled: Path) -> None:
    matched = rows(
        crawled,
        "SELECT a.site, m.watch FROM matches m "
        "JOIN articles a ON a.id = m.article_id ORDER BY 1, 2",
    )
    assert ("kestrel", "rare-earths") in matched and ("ledger", "takaichi") in matched
    assert ("courier", "rare-earths") in matched and ("courier", "takaichi") in matched


def test_site_entry_without_feeds_or_sitemaps_key_autodiscovers() -> None:
    from crawler.config import parse_config
    from spiders.generic import GenericSpider

    doc = {
        "sites": [
            {"name": "a", "spider": "generic", "url": "https://a.example/"},
            {"name": "b", "spider": "generic", "url": "https://b.example/", "feeds": []},
        ]
    }
    config = parse_config(doc)
    assert GenericSpider(site=config.sites[0], config=config).autodiscover
    assert not GenericSpider(site=config.sites[1], config=config).autodiscover
