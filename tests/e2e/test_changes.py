"""Edits of stored stories: a material edit is a new version and one `changed` alert; noise
(view counters, whitespace) is neither. Crawls run as real processes against the replicas."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from replica.server import ReplicaServer
from tests.helpers import run_newsmon, write_config

SEED = "us-japan-ties-rebooted-new-pm-takaichi-and-trump-sign-key-economic-deal"
UNMATCHED_CHANNEL = {"slack": {"webhook_url": "http://127.0.0.1:9/hook", "mode": "instant"}}


@pytest.fixture
def config(tmp_path: Path, caliber_server: ReplicaServer) -> Path:
    path = write_config(
        tmp_path,
        [{"name": "caliber", "spider": "caliber", "url": caliber_server.base_url}],
        alerts=UNMATCHED_CHANNEL,
    )
    first = run_newsmon(path, "crawl", "--no-deliver")
    assert first.returncode == 0, first.stderr
    return path


def query(config: Path, sql: str, *params: object) -> list[tuple]:
    conn = sqlite3.connect(config.parent / "newsmon.db")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def seed_row(config: Path) -> tuple:
    (row,) = query(config, "SELECT id, version, title FROM articles WHERE url LIKE ?", f"%{SEED}")
    return row


def test_title_edit_gives_version_2_and_one_changed_alert(
    config: Path, caliber_server: ReplicaServer
) -> None:
    article_id, version, _ = seed_row(config)
    assert version == 1
    assert query(config, "SELECT kind FROM alerts WHERE article_id = ?", article_id) == [("new",)]
    caliber_server.site.edit_story(
        SEED, title="US-Japan ties rebooted: Takaichi and Trump sign deal"
    )
    for _ in range(2):  # the second crawl proves the edit is not alerted twice
        result = run_newsmon(config, "crawl", "--no-deliver")
        assert result.returncode == 0, result.stderr
    _, version, title = seed_row(config)
    assert (version, title) == (2, "US-Japan ties rebooted: Takaichi and Trump sign deal")
    versions = query(
        config,
        "SELECT version, title FROM article_versions WHERE article_id = ? ORDER BY version",
        article_id,
    )
    assert [v for v, _ in versions] == [1, 2]
    assert versions[0][1].startswith("US-Japan ties rebooted: New PM")
    alerts = query(
        config,
        "SELECT kind, version, watches FROM alerts WHERE article_id = ? ORDER BY id",
        article_id,
    )
    assert alerts == [("new", 1, "rare-earths,takaichi"), ("changed", 2, "rare-earths,takaichi")]


def test_view_counter_change_is_not_an_edit(config: Path, caliber_server: ReplicaServer) -> None:
    caliber_server.site.edit_story(SEED, views=999_999)
    result = run_newsmon(config, "crawl", "--no-deliver")
    assert result.returncode == 0, result.stderr
    assert seed_row(config)[1] == 1
    assert (
        query(config, "SELECT count(*) FROM alerts")[0][0]
        == query(config, "SELECT count(*) FROM alerts WHERE kind = 'new'")[0][0]
    )
    assert query(config, "SELECT count(*) FROM article_versions WHERE version > 1") == [(0,)]


def test_body_edit_of_unmatched_story_that_now_matches_is_new(
    config: Path, caliber_server: ReplicaServer
) -> None:
    story = next(
        s
        for s in caliber_server.site.stories
        if s.language == "en" and "takaichi" not in s.text and "rare" not in s.text
    )
    caliber_server.site.edit_story(
        story.slug, paragraphs=[*story.paragraphs, "Analysts linked the move to rare earths."]
    )
    assert run_newsmon(config, "crawl", "--no-deliver").returncode == 0
    rows = query(
        config,
        "SELECT a.version, al.kind, al.watches FROM articles a JOIN alerts al "
        "ON al.article_id = a.id WHERE a.url LIKE ?",
        f"%{story.slug}",
    )
    assert rows == [(2, "new", "rare-earths")]
