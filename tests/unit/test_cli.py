"""The command line: help on every command, one-line errors, JSON shapes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from crawler.cli import cli
from tests.helpers import REPO


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(all_commands(cmd, (*prefix, name)))
    return out


@pytest.mark.parametrize("command", all_commands(cli))
def test_every_command_has_help_with_an_example(command: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output or isinstance(cli.get_command(None, command[0]), click.Group)


def test_spec_commands_exist() -> None:
    names = {" ".join(c) for c in all_commands(cli)}
    assert {"crawl", "articles", "search", "extract", "status", "check"} <= names


def test_check_reports_the_shipped_config() -> None:
    result = CliRunner().invoke(cli, ["-c", str(REPO / "config/newsmon.yaml"), "check"])
    assert result.exit_code == 0, result.output
    assert "OK (2 sites, 2 watches" in result.output


def test_invalid_config_is_one_line_naming_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "sites": [
                    {
                        "name": "x",
                        "spider": "generic",
                        "url": "http://127.0.0.1:1/",
                        "every": "soon",
                    }
                ]
            }
        )
    )
    result = CliRunner().invoke(cli, ["-c", str(cfg), "check"])
    assert result.exit_code == 2
    assert "sites[0].every: bad interval 'soon'" in result.output
    assert "Traceback" not in result.output


def test_unknown_site_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["-c", str(REPO / "config/newsmon.yaml"), "crawl", "nope"])
    assert result.exit_code == 2
    assert "unknown site 'nope' (configured: caliber, eqmint)" in result.output


def test_extract_json_gives_one_object_per_input_in_order(tmp_path: Path) -> None:
    pages = []
    for i, title in enumerate(["First story", "Second story"]):
        page = tmp_path / f"p{i}.html"
        body = "".join(
            f"<p>{title} paragraph {n} with enough words to be a body.</p>" for n in range(8)
        )
        page.write_text(
            f"<html lang='en'><head><title>{title}</title></head><body><article>"
            f"<h1>{title}</h1>{body}</article></body></html>"
        )
        pages.append(str(page))
    pages.append(str(tmp_path / "missing.html"))
    result = CliRunner().invoke(cli, ["extract", *pages, "--json"])
    assert result.exit_code == 0, result.output
    objects = json.loads(result.output)
    assert [o["title"] for o in objects] == ["First story", "Second story", None]
    assert {"url", "title", "author", "published", "language", "text"} <= set(objects[0])
    assert "First story paragraph 7" in objects[0]["text"]
    assert objects[0]["language"] == "en"
    assert "error" in objects[2]


def test_extract_with_site_rules_says_which_fields_fell_back(tmp_path: Path) -> None:
    """A page in a theme the site's rules do not know: extracted all the same, and the user is
    told which fields came from generic extraction."""
    from replica.sites import eqmint

    site = eqmint()
    story = site.stories[0]
    page = tmp_path / "story.html"
    for theme in ("classic", "newspaper"):
        site.set_theme(theme)
        page.write_bytes(site.handle(f"/{story.slug}/", "https://eqmint.com").body)
        result = CliRunner().invoke(cli, ["extract", str(page), "--site", "eqmint", "--json"])
        assert result.exit_code == 0, result.output
        (got,) = json.loads(result.output)
        assert got["title"] == story.title and got["text"] == "\n\n".join(story.paragraphs)
        if theme == "classic":
            assert (got["rules_matched"], got["fallbacks"]) == ("full", [])
        else:
            assert got["rules_matched"] == "none"
            assert got["fallbacks"] == ["container", "title", "author", "body"]
    text = CliRunner().invoke(cli, ["extract", str(page), "--site", "eqmint"]).output
    assert (
        "site rules matched: none; from generic extraction: container, title, author, body" in text
    )
