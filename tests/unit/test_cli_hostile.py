"""Hostile story text never reaches the terminal as control sequences or fake lines."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from crawler.cli import cli
from crawler.db import connect, transaction
from crawler.db.stories import SaveContext, save_story
from crawler.dedup.fingerprints import content_hash
from crawler.story import Story

HOSTILE_TITLE = "Takaichi\x1b[2J\x1b[31m wins\r\nFAKE: line\u202egnp.exe\x07 " + "x" * 500


def hostile_config(tmp_path: Path) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "database": "n.db",
                "watches": [{"name": "takaichi", "query": "Takaichi"}],
                "sites": [{"name": "x", "spider": "generic", "url": "http://127.0.0.1:9/"}],
            }
        )
    )
    db = connect(tmp_path / "n.db")
    text = "Takaichi said\x1b]0;owned\x07 something.\n\nSecond <script>alert(1)</script>."
    story = Story(url="http://127.0.0.1:9/a", site="x", title=HOSTILE_TITLE, text=text)
    story.content_hash = content_hash(story.title, story.text)
    with transaction(db):
        save_story(db, story, SaveContext([("takaichi", "Takaichi")], []))
    db.close()
    return path


def test_table_output_strips_controls_and_folds_newlines(tmp_path: Path) -> None:
    config = hostile_config(tmp_path)
    for args in (["articles"], ["search", "Takaichi"]):
        result = CliRunner().invoke(cli, ["-c", str(config), *args])
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
        assert "\u202e" not in result.output and "\r" not in result.output
        assert not any(line.startswith("FAKE") for line in result.output.splitlines())
        assert max(len(line) for line in result.output.splitlines()) < 400


def test_json_output_keeps_text_exactly(tmp_path: Path) -> None:
    config = hostile_config(tmp_path)
    result = CliRunner().invoke(cli, ["-c", str(config), "articles", "--json"])
    (story,) = json.loads(result.output)
    assert story["title"] == HOSTILE_TITLE
