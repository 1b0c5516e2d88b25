"""Discovery parsers: feeds, sitemaps (Google News, indexes, gzip), home pages, robots.txt,
listings and the WordPress REST API. Documents are rendered by the replica sites where one
exists, so the parsers meet what the crawler meets."""

from __future__ import annotations

import gzip
import json

import pytest

from crawler.discovery import parsers as discovery
from crawler.discovery.parsers import FEED, SITEMAP
from replica.sites import courier, kestrel, ledger

ORIGIN = "https://news.example"


def render(site: object, path: str) -> bytes:
    response = site.handle(path, ORIGIN)  # type: ignore[attr-defined]
    assert response.status == 200, path
    return response.body


def test_atom_feed_gives_every_entry_with_its_dates_and_author() -> None:
    site = ledger(recent=False)
    found = discovery.parse_feed(render(site, "/atom.xml"), ORIGIN + "/atom.xml")
    assert len(found.links) == len(site.stories)
    first, story = found.links[0], site.stories[0]
    assert first.url == f"{ORIGIN}/2025/11/{story.slug}/"
    assert first.hints["title"] == story.title
    assert first.hints["published"] == story.published.isoformat()
    assert first.hints["modified"] == story.updated.isoformat()
    assert first.hints["author"] == story.author


def test_rss_and_json_feed() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel><item><title>A</title>
    <link>/a</link><pubDate>Tue, 28 Oct 2025 10:06:00 +0400</pubDate></item></channel></rss>"""
    found = discovery.parse_feed(rss, ORIGIN + "/rss.xml")
    assert [(x.url, x.hints["published"]) for x in found.links] == [
        (ORIGIN + "/a", "2025-10-28T10:06:00+04:00")
    ]
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "items": [
            {"id": "1", "url": ORIGIN + "/b", "title": "B", "date_modified": "2025-11-01T10:00:00Z"}
        ],
    }
    found = discovery.parse_feed(json.dumps(feed).encode(), ORIGIN + "/feed.json")
    assert [(x.url, x.hints) for x in found.links] == [
        (ORIGIN + "/b", {"title": "B", "modified": "2025-11-01T10:00:00+00:00"})
    ]


def test_google_news_sitemap_gives_publication_dates_and_titles() -> None:
    site = ledger(recent=False)
    found = discovery.parse_sitemap(render(site, "/news-sitemap.xml"), ORIGIN + "/")
    hints = found.links[0].hints
    story = site.stories[0]
    assert hints == {
        "published": story.published.isoformat(),
        "title": story.title,
        "modified": story.updated.isoformat(),
    }


def test_sitemap_index_is_followed_and_gzip_is_undone() -> None:
    site = kestrel(recent=False)
    index = discovery.parse_sitemap(render(site, "/wp-sitemap.xml"), ORIGIN + "/")
    assert index.links == []
    assert index.follow == [
        f"{ORIGIN}/wp-sitemap-posts-post-1.xml",
        f"{ORIGIN}/wp-sitemap-posts-page-1.xml",
    ]
    packed = gzip.compress(render(site, "/wp-sitemap-posts-post-1.xml"))
    posts = discovery.parse_sitemap(discovery.decompressed(packed, 10**6), ORIGIN + "/")
    assert len(posts.links) == len(site.stories)
    assert all("modified" in link.hints for link in posts.links)
    with pytest.raises(ValueError):
        discovery.decompressed(gzip.compress(b"<urlset>" + b" " * 5000 + b"</urlset>"), 1000)


def test_home_page_announces_its_feed_and_lists_stories() -> None:
    site = ledger(recent=False)
    found = discovery.parse_home(render(site, "/"), ORIGIN + "/")
    assert found.sources == [(FEED, ORIGIN + "/atom.xml")]
    assert sum("/2025/11/" in link.url for link in found.links) == len(site.stories) == 8


def test_home_page_feed_links_skip_comment_feeds() -> None:
    html = b"""<html><head>
    <link rel="alternate" type="application/rss+xml" title="Site &raquo; Feed" href="/feed/">
    <link rel="alternate" type="application/rss+xml" title="Site &raquo; Comments Feed"
          href="/comments/feed/">
    <link rel="alternate" type="application/feed+json" href="/feed.json">
    <link rel="alternate" hreflang="de" href="/de/">
    </head><body></body></html>"""
    found = discovery.parse_home(html, ORIGIN + "/")
    assert found.sources == [(FEED, ORIGIN + "/feed/"), (FEED, ORIGIN + "/feed.json")]


def test_robots_sitemap_lines() -> None:
    found = discovery.parse_robots(render(ledger(), "/robots.txt"), ORIGIN + "/robots.txt")
    assert found.sources == [(SITEMAP, ORIGIN + "/news-sitemap.xml")]
    assert discovery.parse_robots(b"User-agent: *\nDisallow: /\n", ORIGIN).sources == []


def test_listing_follows_rel_next_pagination() -> None:
    site = courier(recent=False)
    found = discovery.parse_listing(render(site, "/section/world/"), ORIGIN + "/section/world/")
    assert found.follow == [ORIGIN + "/section/world/?page=2"]
    stories = [x.url for x in found.links if "/story/" in x.url]
    assert len(stories) == 2
    last = discovery.parse_listing(render(site, "/section/world/?page=2"), ORIGIN + "/")
    assert last.follow == []


def test_wordpress_posts_give_links_and_utc_dates() -> None:
    site = kestrel(recent=False)
    body = render(site, "/wp-json/wp/v2/posts?per_page=100")
    found = discovery.parse_wp_posts(body, ORIGIN + "/")
    assert len(found.links) == len(site.stories)
    assert found.links[0].hints["published"].endswith("+00:00")
    with pytest.raises(discovery.SourceError):
        discovery.parse_wp_posts(b'{"code": "rest_no_route"}', ORIGIN)


def test_entity_expansion_is_refused() -> None:
    bomb = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
    <!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><urlset><url><loc>&lol2;</loc></url></urlset>"""
    with pytest.raises(discovery.SourceError):
        discovery.parse_sitemap(bomb, ORIGIN)


def test_parser_for_each_kind() -> None:
    assert discovery.parser_for(FEED) is discovery.parse_feed
    assert discovery.parser_for("home") is discovery.parse_home
    assert discovery.parser_for("listing") is discovery.parse_listing
    assert discovery.parser_for("search") is discovery.parse_listing
