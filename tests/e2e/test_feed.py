"""Atom feeds (crawler/feed.py): a replica crawl's matches read back with feedparser, and
hostile text that must stay text and keep the XML well formed."""

from __future__ import annotations

import calendar
import os
import stat
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import sqlite_utils
from click.testing import CliRunner

from crawler.cli import cli
from crawler.db import connect
from crawler.db.queries import parse_when, stories
from crawler.outputs.feed import build_feed, write_feed
from tests.helpers import crawl_seed_replicas

HOSTILE_TITLE = '<script>alert("x")</script> Fish & Chips \x00\x01\x0b\x1b[0m\ufffe end'


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose database holds one crawl of both replica sites."""
    return crawl_seed_replicas(tmp_path_factory.mktemp("feed"))


@pytest.fixture
def db(crawled: Path) -> Iterator[sqlite_utils.Database]:
    database = connect(crawled.parent / "newsmon.db")
    yield database
    database.close()


def parse(document: bytes) -> feedparser.FeedParserDict:
    ET.fromstring(document)  # a strict XML parser: feedparser alone would forgive errors
    parsed = feedparser.parse(document)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_feed_has_one_entry_per_matched_story_newest_first(
    crawled: Path, db: sqlite_utils.Database, tmp_path: Path
) -> None:
    out = tmp_path / "all.atom"
    result = CliRunner().invoke(cli, ["-c", str(crawled), "feed", "-o", str(out)])
    assert result.exit_code == 0, result.output
    parsed = parse(out.read_bytes())
    expected = stories(db)
    assert len(expected) > 8
    assert [e.link for e in parsed.entries] == [s["url"] for s in expected]
    assert [e.id for e in parsed.entries] == [s["url"] for s in expected]
    for entry, story in zip(parsed.entries, expected, strict=True):
        assert entry.title == story["title"]
        assert [t.term for t in entry.tags] == story["watches"]
        assert entry.source.title == story["site"]
        assert calendar.timegm(entry.published_parsed) == parse_when(story["published"]).timestamp()
        assert entry.published == story["published"], "the site's own UTC offset is kept"
        assert entry.updated_parsed >= entry.published_parsed
        assert "<b>" in entry.summary and "**" not in entry.summary
    times = [calendar.timegm(e.published_parsed) for e in parsed.entries]
    assert times == sorted(times, reverse=True)


def test_feed_entries_carry_authors_and_highlighted_snippets(db: sqlite_utils.Database) -> None:
    parsed = parse(build_feed(db))
    seed = next(e for e in parsed.entries if "Sanae Takaichi" in e.title)
    assert seed.author == "Aditya Pareek"
    assert seed.published == "2025-11-03T15:30:00+05:30"
    assert {t.term for t in seed.tags} == {"rare-earths", "takaichi"}
    assert "<b>Takaichi</b>" in seed.summary and "<b>Rare Earths</b>" in seed.summary
    caliber_entry = next(e for e in parsed.entries if e.source.title == "caliber")
    assert caliber_entry.author == "caliber", "no byline: the site stands in as author"


def test_watch_feed_holds_only_that_watch(crawled: Path, db: sqlite_utils.Database) -> None:
    result = CliRunner().invoke(cli, ["-c", str(crawled), "feed", "--watch", "takaichi"])
    assert result.exit_code == 0, result.output
    parsed = parse(result.stdout_bytes)
    assert [e.link for e in parsed.entries] == [s["url"] for s in stories(db, watch="takaichi")]
    assert all("takaichi" in {t.term for t in e.tags} for e in parsed.entries)
    assert all("<b>" in e.summary for e in parsed.entries)
    assert "takaichi" in parsed.feed.title and parsed.feed.id.endswith("watch/takaichi")


def test_limit_keeps_the_newest(db: sqlite_utils.Database) -> None:
    everything = parse(build_feed(db)).entries
    assert [e.id for e in parse(build_feed(db, limit=3)).entries] == [e.id for e in everything[:3]]


@pytest.fixture
def hostile_db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    """A story whose title, author, snippet and watch name try to break out of the XML."""
    database = connect(tmp_path / "hostile.db")
    database["articles"].insert({
        "url": "https://news.example.org/story?a=1&b=<2>", "site": "example",
        "title": HOSTILE_TITLE, "author": "Eve <eve@example.org> \x07",
        "text": "body", "content_hash": "h", "language": "en",
        "published": "2025-11-01T12:00:00+02:00",
        "first_seen": "2025-11-01T10:30:00+00:00", "last_seen": "2025-11-01T10:30:00+00:00",
    })  # fmt: skip
    database["matches"].insert({
        "article_id": 1, "watch": "r&d <lab>", "matched_at": "2025-11-01T10:30:00+00:00",
        "snippet": "a <script>steal()</script> & **rare earths** \x0c ]]> b",
    })  # fmt: skip
    yield database
    database.close()


def test_hostile_text_survives_as_text(hostile_db: sqlite_utils.Database) -> None:
    (entry,) = parse(build_feed(hostile_db)).entries
    assert entry.title == '<script>alert("x")</script> Fish & Chips [0m end'
    assert entry.title_detail.type == "text/plain"
    assert entry.author == "Eve <eve@example.org>"
    assert entry.link == "https://news.example.org/story?a=1&b=<2>"
    assert [t.term for t in entry.tags] == ["r&d <lab>"]
    # Shown as written: escaped inside the HTML summary, never markup that would run.
    assert "&lt;script&gt;steal()&lt;/script&gt;" in entry.summary
    assert "<script" not in entry.summary
    assert "<b>rare earths</b>" in entry.summary and "]]&gt;" in entry.summary
    assert entry.published == "2025-11-01T12:00:00+02:00"


def test_empty_database_gives_a_valid_empty_feed(tmp_path: Path) -> None:
    database = connect(tmp_path / "empty.db")
    try:
        parsed = parse(build_feed(database))
    finally:
        database.close()
    assert parsed.entries == [] and parsed.feed.updated


def test_write_feed_replaces_the_file_atomically(
    hostile_db: sqlite_utils.Database, tmp_path: Path
) -> None:
    path = tmp_path / "feeds" / "all.atom"
    path.parent.mkdir()
    path.write_text("old")
    path.chmod(0o640)
    write_feed(hostile_db, path)
    assert len(parse(path.read_bytes()).entries) == 1
    assert os.listdir(path.parent) == ["all.atom"], "no temporary file left behind"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640, "the replaced file's permissions stay"
    write_feed(hostile_db, path.with_name("empty.atom"), watch="no-such-watch")
    assert parse(path.with_name("empty.atom").read_bytes()).entries == []
    assert stat.S_IMODE(path.with_name("empty.atom").stat().st_mode) == 0o644, "readable"


def test_failed_write_leaves_the_old_feed(
    hostile_db: sqlite_utils.Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "all.atom"
    path.write_bytes(b"old feed")

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_feed(hostile_db, path)
    assert path.read_bytes() == b"old feed"
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_configured_feed_file_is_rewritten_from_the_database(tmp_path: Path) -> None:
    """The daemon calls refresh_feed after each crawl; a relative feed_file resolves against
    the config file's folder, like the database."""
    import yaml

    from crawler.config import load_config
    from crawler.outputs.feed import refresh_feed

    cfg_path = tmp_path / "cfg.yaml"
    cfg_path.write_text(yaml.safe_dump({"database": "n.db", "feed_file": "out/matches.atom"}))
    config = load_config(cfg_path)
    assert config.feed_file == tmp_path / "out/matches.atom"
    (tmp_path / "out").mkdir()
    assert refresh_feed(config) == tmp_path / "out/matches.atom"
    parsed = feedparser.parse((tmp_path / "out/matches.atom").read_bytes())
    assert not parsed.bozo and parsed.entries == []
