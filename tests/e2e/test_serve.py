"""`newsmon serve` (crawler/serve.py): Datasette on a replica crawl's database, checked over
HTTP through its JSON API, with the shipped metadata (search, canned queries, hidden tables)."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.outputs import serve
from replica.server import ReplicaServer
from replica.sites import caliber, eqmint
from tests.helpers import REPO, run_newsmon, seed_sites, write_config

EDITED = "us-japan-ties-rebooted-new-pm-takaichi-and-trump-sign-key-economic-deal"
EDITED_TITLE = "US-Japan ties rebooted: Takaichi and Trump sign deal"
RARE_EARTHS = re.compile(r"\brare[-\s]+earths?\b", re.I)
TAKAICHI = re.compile(r"\btakaichi", re.I)
needs_datasette = pytest.mark.skipif(
    importlib.util.find_spec("datasette") is None,
    reason="datasette is not installed (pip install 'newsmon[ui]')",
)


def own_words(story: Any) -> str:
    """A replica story's own title and paragraphs, as written (not as newsmon extracted)."""
    return "\n".join([story.title, *story.paragraphs])


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Any]]:
    """A config whose database holds a crawl of both replicas, then one edited story; with the
    replica stories (as first published)."""
    tmp = tmp_path_factory.mktemp("serve")
    with ReplicaServer(caliber()) as cal, ReplicaServer(eqmint()) as eqm:
        config = write_config(tmp, seed_sites(cal, eqm))
        first = run_newsmon(config, "crawl", "--no-deliver")
        assert first.returncode == 0, first.stdout + first.stderr
        stories = [*cal.site.stories, *eqm.site.stories]
        cal.site.edit_story(EDITED, title=EDITED_TITLE)
        second = run_newsmon(config, "crawl", "--no-deliver", "caliber")
        assert second.returncode == 0, second.stdout + second.stderr
    return config, stories


@pytest.fixture(scope="module")
def datasette(crawled: tuple[Path, list[Any]]) -> Iterator[str]:
    """`newsmon serve` on an ephemeral port; yields the base URL."""
    config, _ = crawled
    log = config.parent / "serve.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "-c", str(config), "serve", "--port", "0"],
            stdout=sink, stderr=subprocess.STDOUT, cwd=REPO,
        )  # fmt: skip
    try:
        yield wait_for_url(proc, log)
    finally:
        proc.terminate()  # newsmon passes it on to Datasette: no orphan keeps the port
        assert proc.wait(timeout=30) == 0, log.read_text()


def wait_for_url(proc: subprocess.Popen[bytes], log: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()
        found = re.search(r"running on (http://127\.0\.0\.1:\d+)", log.read_text())
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError("Datasette did not start:\n" + log.read_text())


def get_json(base: str, path: str, rows_only: bool = True, **params: str) -> Any:
    """A Datasette JSON answer: by default just its rows (``_shape=array``)."""
    query = urlencode({**params, "_shape": "array"} if rows_only else params)
    with urlopen(f"{base}{path}?{query}", timeout=30) as response:
        return json.load(response)


def slug_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


@needs_datasette
def test_search_box_uses_the_fts_index_with_query_syntax(
    datasette: str, crawled: tuple[Path, list[Any]]
) -> None:
    _, stories = crawled
    found = get_json(datasette, "/newsmon/articles.json", _search='"rare earths"', _col="url")
    expected = {s.slug for s in stories if RARE_EARTHS.search(own_words(s))}
    assert len(expected) >= 5
    assert {slug_of(r["url"]) for r in found} == expected, "stemmed phrase: rare-earth too"
    found = get_json(datasette, "/newsmon/articles.json",
                     _search='takaichi NOT "rare earths"', _col="url")  # fmt: skip
    expected = {
        s.slug
        for s in stories
        if TAKAICHI.search(own_words(s)) and not RARE_EARTHS.search(own_words(s))
    }
    assert expected and {slug_of(r["url"]) for r in found} == expected


@needs_datasette
def test_canned_query_matches_of_the_last_24_hours(
    datasette: str, crawled: tuple[Path, list[Any]]
) -> None:
    _, stories = crawled
    rows = get_json(datasette, "/newsmon/matches_last_24_hours.json")
    got = {(slug_of(r["url"]), r["watch"]) for r in rows}
    expected = {(s.slug, "rare-earths") for s in stories if RARE_EARTHS.search(own_words(s))}
    expected |= {(s.slug, "takaichi") for s in stories if TAKAICHI.search(own_words(s))}
    assert got == expected
    assert all("**" in r["snippet"] and r["site"] in ("caliber", "eqmint") for r in rows)
    assert [r["matched_at"] for r in rows] == sorted((r["matched_at"] for r in rows), reverse=True)


@needs_datasette
def test_canned_query_edited_stories(datasette: str) -> None:
    rows = get_json(datasette, "/newsmon/edited_stories.json")
    assert [(slug_of(r["url"]), r["version"], r["latest_version"]) for r in rows] == [
        (EDITED, 2, 2), (EDITED, 1, 2)]  # fmt: skip
    assert rows[0]["title"] == EDITED_TITLE
    assert rows[1]["title"].startswith("US-Japan ties rebooted: New PM")


@needs_datasette
def test_tables_sorted_described_faceted_and_noise_hidden(datasette: str) -> None:
    tables = {t["name"]: t for t in get_json(datasette, "/newsmon.json", rows_only=False)["tables"]}
    hidden = {name for name, t in tables.items() if t["hidden"]}
    assert {"articles_fts", "articles_fts_data", "http_cache", "lsh_bands"} <= hidden
    assert {"articles_stemmed", "articles_stemmed_content"} <= hidden
    assert {"articles", "matches", "article_versions", "alerts", "runs"}.isdisjoint(hidden)
    page = get_json(datasette, "/newsmon/articles.json", rows_only=False)
    assert "sorted by first_seen descending" in page["human_description_en"]
    assert {"site", "language", "published"} <= set(page["facet_results"])
    sites = {f["value"]: f["count"] for f in page["facet_results"]["site"]["results"]}
    assert sites == {"caliber": len(caliber().stories), "eqmint": len(eqmint().stories)}
    watches = get_json(datasette, "/newsmon/matches.json", rows_only=False)["facet_results"][
        "watch"
    ]
    assert {f["value"] for f in watches["results"]} == {"rare-earths", "takaichi"}
    with urlopen(f"{datasette}/newsmon/articles", timeout=30) as response:
        html = response.read().decode()
    assert "Canonical URL" in html and "Every stored story" in html


def test_metadata_follows_the_database_file_name() -> None:
    metadata = serve.load_metadata("/data/monitoring.db")
    assert list(metadata["databases"]) == ["monitoring"]
    tables = metadata["databases"]["monitoring"]["tables"]
    assert tables["articles"]["fts_table"] == "articles_fts"
    assert set(metadata["databases"]["monitoring"]["queries"]) == {
        "matches_last_24_hours", "edited_stories"}  # fmt: skip


def test_missing_datasette_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = write_config(tmp_path, [])
    real_find_spec = importlib.util.find_spec

    def without_datasette(name: str, *args: Any) -> Any:
        return None if name == "datasette" else real_find_spec(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", without_datasette)
    result = CliRunner().invoke(cli, ["-c", str(config), "serve"])
    assert result.exit_code == 2
    assert "pip install 'newsmon[ui]'" in result.output
