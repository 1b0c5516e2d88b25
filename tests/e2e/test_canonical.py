"""One story, one row: URL variants of a story found during a crawl fold into its canonical URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from replica.server import ReplicaServer
from tests.helpers import run_newsmon, write_config

SEED = "us-japan-ties-rebooted-new-pm-takaichi-and-trump-sign-key-economic-deal"


def test_tracking_trailing_slash_and_amp_variants_are_one_row(
    tmp_path: Path, caliber_server: ReplicaServer
) -> None:
    variants = [
        f"/en/post/{SEED}?utm_source=twitter&utm_medium=social",
        f"/en/post/{SEED}/",
        f"/en/post/{SEED}/amp",
        f"/en/post/{SEED}#comments",
    ]
    links = "".join(f'<a href="{v}">variant</a>' for v in variants)
    caliber_server.set_fault(
        "/en/category/promo",
        "body",
        body=f"<html><body>{links}</body></html>".encode(),
        content_type="text/html; charset=utf-8",
    )
    config = write_config(
        tmp_path,
        [
            {
                "name": "caliber",
                "spider": "caliber",
                "url": caliber_server.base_url,
                "listings": [caliber_server.origin + "/en/category/promo"],
            }
        ],
    )
    result = run_newsmon(config, "crawl")
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    rows = conn.execute("SELECT id, url FROM articles WHERE url LIKE ?", (f"%{SEED}%",)).fetchall()
    assert [url for _, url in rows] == [caliber_server.origin + f"/en/post/{SEED}"]
    again = run_newsmon(config, "crawl")
    assert again.returncode == 0, again.stderr
    assert (
        conn.execute("SELECT count(*) FROM articles WHERE url LIKE ?", (f"%{SEED}%",)).fetchone()[0]
        == 1
    )
    assert (
        conn.execute("SELECT count(*) FROM matches WHERE article_id = ?", (rows[0][0],)).fetchone()[
            0
        ]
        == 2
    )
