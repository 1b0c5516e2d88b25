"""A story republished on another site with an edited first paragraph is one story: stored
with `duplicate_of`, listed under the original, and never alerted a second time."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from replica.server import ReplicaServer
from tests.helpers import run_newsmon, write_config

SEED = "us-japan-ties-rebooted-new-pm-takaichi-and-trump-sign-key-economic-deal"


def test_syndicated_copy_is_a_duplicate_without_a_second_alert(
    tmp_path: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> None:
    original = caliber_server.site.story(SEED)
    paragraphs = list(original.paragraphs)
    paragraphs[0] = (
        "Japan's new leader Sanae Takaichi promised a golden age in ties with "
        "Washington as she hosted President Donald Trump in Tokyo on Tuesday."
    )
    copy = replace(
        original,
        slug="takaichi-and-trump-sign-economic-deal-in-tokyo",
        title="Takaichi and Trump sign economic deal in Tokyo",
        author="Wire Desk",
        section="General News",
        published=original.published + timedelta(hours=3),
        modified=None,
        paragraphs=[*paragraphs, "This story first appeared on Caliber.az."],
        comments=[],
        related=[],
    )
    eqmint_server.site.add_story(copy)
    config = write_config(
        tmp_path,
        [
            {"name": "caliber", "spider": "caliber", "url": caliber_server.base_url},
            {"name": "eqmint", "spider": "eqmint", "url": eqmint_server.base_url},
        ],
        alerts={"slack": {"webhook_url": "http://127.0.0.1:9/hook", "mode": "instant"}},
    )
    for site in ("caliber", "eqmint"):  # the original is stored first
        result = run_newsmon(config, "crawl", site, "--no-deliver")
        assert result.returncode == 0, result.stderr

    conn = sqlite3.connect(tmp_path / "newsmon.db")
    ((orig_id, orig_url),) = conn.execute(
        "SELECT id, url FROM articles WHERE url LIKE ?", (f"%{SEED}",)
    ).fetchall()
    ((copy_id, dup_of),) = conn.execute(
        "SELECT id, duplicate_of FROM articles WHERE url LIKE ?", (f"%{copy.slug}/",)
    ).fetchall()
    alerts = conn.execute(
        "SELECT article_id, kind FROM alerts WHERE article_id IN (?, ?)", (orig_id, copy_id)
    ).fetchall()
    matched = conn.execute(
        "SELECT count(*) FROM matches WHERE article_id = ?", (copy_id,)
    ).fetchone()[0]
    distinct = conn.execute(
        "SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL"
    ).fetchone()[0]
    conn.close()
    assert dup_of == orig_id
    assert alerts == [(orig_id, "new")]
    assert matched == 2, "the copy still records its matches, for search and grouping"
    assert distinct == 1, "no other story of the two sites was taken for a duplicate"

    stories = json.loads(run_newsmon(config, "articles", "--json").stdout)
    (dup,) = [s for s in stories if s["duplicate_of"]]
    assert dup["duplicate_of"] == orig_url
    table = run_newsmon(config, "articles").stdout.splitlines()
    at = next(i for i, line in enumerate(table) if line.endswith(original.title))
    assert table[at + 2].strip().startswith("duplicate: eqmint")
