"""Exports and feeds read from a database filled the real way (stories saved and matched)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import feedparser
import sqlite_utils

from crawler.db import connect
from crawler.outputs.export import export
from crawler.outputs.feed import build_feed
from tests.helpers import RARE, TAKAICHI, save, story


def filled(tmp_path: Path) -> sqlite_utils.Database:
    db = connect(tmp_path / "newsmon.db")
    save(db, story("rare", '=HYPERLINK("http://x") rare earths', RARE), ())
    save(db, story("pm", "Takaichi meets delegation", TAKAICHI, published=None), ())
    save(db, story("other", "Weather", "Sunny all week along the Caspian coast."), ())
    return db


def test_csv_guards_formulas_and_jsonl_keeps_the_text(tmp_path: Path) -> None:
    with filled(tmp_path) as db:
        out = io.StringIO()
        assert export(db, out, "csv") == 2  # matched stories only
        rows = list(csv.DictReader(io.StringIO(out.getvalue())))
        titles = {r["title"] for r in rows}
        assert '\'=HYPERLINK("http://x") rare earths' in titles
        lines = io.StringIO()
        assert export(db, lines, "jsonl", matched_only=False) == 3
        objects = [json.loads(line) for line in lines.getvalue().splitlines()]
        assert '=HYPERLINK("http://x") rare earths' in {o["title"] for o in objects}
        assert {tuple(o["watches"]) for o in objects} == {("rare-earths",), ("takaichi",), ()}


def test_feed_has_an_entry_per_matched_story_of_the_watch(tmp_path: Path) -> None:
    with filled(tmp_path) as db:
        parsed = feedparser.parse(build_feed(db, "takaichi"))
        assert not parsed.bozo
        assert [e.title for e in parsed.entries] == ["Takaichi meets delegation"]
        assert parsed.entries[0].link == "https://caliber.az/en/post/pm"
        everything = feedparser.parse(build_feed(db))
        assert len(everything.entries) == 2
