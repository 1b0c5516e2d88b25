"""`newsmon discover URL` against the three generic replica sites: the entry it prints is
pasted unchanged into a config, which passes `newsmon check` and crawls every story."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from crawler.cli import cli
from crawler.discovery.probe import infer_pattern, site_name
from replica import courier_site, kestrel_site, ledger_site
from replica.server import ReplicaServer
from replica.sites import courier
from tests.helpers import run_newsmon, write_config

PATHS = {
    "ledger": ledger_site.story_path,
    "kestrel": kestrel_site.story_path,
    "courier": courier_site.story_path,
}
USER_AGENT = "newsmon-test/1.0 (+https://example.org/contact)"


@pytest.fixture(scope="module")
def entries(
    tmp_path_factory: pytest.TempPathFactory, servers: dict[str, ReplicaServer]
) -> dict[str, str]:
    """`newsmon discover` output per site."""
    config = tmp_path_factory.mktemp("ua") / "ua.yaml"
    config.write_text(yaml.safe_dump({"user_agent": USER_AGENT}))
    out = {}
    for name, server in servers.items():
        result = CliRunner().invoke(
            cli, ["-c", str(config), "discover", server.base_url, "--name", name]
        )
        assert result.exit_code == 0, result.output
        out[name] = result.output
    return out


def parsed(text: str) -> dict:
    (entry,) = yaml.safe_load(text)
    return entry


def test_entries_describe_each_site(entries: dict[str, str], servers: dict) -> None:
    ledger_entry = parsed(entries["ledger"])
    assert ledger_entry["feeds"] == [servers["ledger"].url("/atom.xml")]
    assert ledger_entry["sitemaps"] == [servers["ledger"].url("/news-sitemap.xml")]
    assert ledger_entry["wordpress"] is False
    count = len(servers["ledger"].site.stories)  # 8: six in English, two in Japanese
    assert f"Google News, {count} stories" in entries["ledger"]
    assert f"{count} JSON-LD NewsArticle" in entries["ledger"]

    kestrel_entry = parsed(entries["kestrel"])
    assert kestrel_entry["feeds"] == []
    assert kestrel_entry["sitemaps"] == [servers["kestrel"].url("/wp-sitemap.xml")]
    assert kestrel_entry["wordpress"] is True
    assert "# WordPress: yes, REST API lists 6 stories" in entries["kestrel"]

    courier_entry = parsed(entries["courier"])
    assert courier_entry["feeds"] == courier_entry["sitemaps"] == []
    assert courier_entry["wordpress"] is False
    assert servers["courier"].url("/section/world/") in courier_entry["listings"]
    assert courier_entry["article_pattern"] == r"^https?://[^/]+/story/[^/]+\.html$"
    assert "og:type=article" in entries["courier"]


def test_discover_sends_the_configured_user_agent(
    entries: dict[str, str], servers: dict[str, ReplicaServer]
) -> None:
    agents = {r.headers.get("User-Agent") for s in servers.values() for r in s.requests}
    assert agents == {USER_AGENT}


def test_discover_obeys_robots_txt() -> None:
    with ReplicaServer(courier()) as server:
        robots = "User-agent: *\nDisallow: /section/\n"
        server.set_fault("/robots.txt", "body", body=robots, content_type="text/plain")
        result = CliRunner().invoke(cli, ["-c", "/nonexistent.yaml", "discover", server.base_url])
        assert result.exit_code == 0, result.output
        assert not [r for r in server.requests if r.path.startswith("/section/")]


def test_pasted_entries_pass_check_and_crawl_every_story(
    tmp_path: Path, entries: dict[str, str], servers: dict[str, ReplicaServer]
) -> None:
    config = write_config(tmp_path, [parsed(entries[name]) for name in servers])
    check = CliRunner().invoke(cli, ["-c", str(config), "check"])
    assert check.exit_code == 0, check.output
    for server in servers.values():
        server.clear_requests()
    result = run_newsmon(config, "crawl", "--no-deliver")
    assert result.returncode == 0, result.stdout + result.stderr
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    try:
        for name, server in servers.items():
            stored = {
                u for (u,) in conn.execute("SELECT url FROM articles WHERE site = ?", (name,))
            }
            assert stored == {server.url(PATHS[name](s)) for s in server.site.stories}
            # The entry is complete: the crawl guesses at nothing.
            assert not [r for r in server.requests if r.status == 404], name
    finally:
        conn.close()


def test_unreachable_site_is_a_one_line_error() -> None:
    result = CliRunner().invoke(cli, ["-c", "/nonexistent.yaml", "discover", "http://127.0.0.1:9/"])
    assert result.exit_code == 2
    assert "cannot fetch the home page" in result.output


@pytest.mark.parametrize(
    ("articles", "others", "pattern"),
    [
        (["http://h/2025/11/a/", "http://h/2024/01/b/"], ["http://h/about/"],
         r"^https?://[^/]+/\d{4}/\d{2}/[^/]+/$"),
        (["http://h/news/a-1.html", "http://h/news/b-2.html"], ["http://h/news/"],
         r"^https?://[^/]+/news/[^/]+\.html$"),
        (["http://h/en/post/a", "http://h/az/post/b", "http://h/post/c"], ["http://h/en/"],
         r"^https?://[^/]+/(?:[^/]+/post/[^/]+|post/[^/]+)$"),
        (["http://h/a-story/", "http://h/another/"], ["http://h/about-us/"], None),
        (["http://h/only/one"], [], None),
    ],
)  # fmt: skip
def test_infer_pattern(articles: list[str], others: list[str], pattern: str | None) -> None:
    assert infer_pattern(articles, others) == pattern


def test_site_name() -> None:
    assert site_name("https://www.News.Example.org/en/") == "news-example-org"
