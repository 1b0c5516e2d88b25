"""Every discovered story accounted for: the `runs` row of a crawl says what became of every
story URL its sources listed, and a capped run takes the newest stories and leaves the rest,
counted, for the next runs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from replica.bulk import bulk
from replica.server import ReplicaServer
from tests.helpers import run_newsmon, write_config

CAP = 1000


def run_rows(db: Path) -> list[dict]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM runs ORDER BY id")]
    finally:
        conn.close()


def assert_balanced(run: dict) -> None:
    """discovered = stored + up to date + deferred + skipped, and skipped is its reasons."""
    reasons = json.loads(run["skip_reasons"])
    assert run["skipped"] == sum(reasons.values()), run
    assert run["discovered"] == (
        run["stored"] + run["up_to_date"] + run["deferred"] + run["skipped"]
    ), run
    assert run["new_urls"] + run["due"] == run["fetched"] + run["deferred"], run
    assert run["stored"] == (
        run["articles_new"]
        + run["articles_changed"]
        + run["articles_unchanged"]
        + run["duplicates"]
    ), run


def test_a_capped_run_takes_the_newest_stories_and_the_next_runs_the_rest(
    tmp_path: Path,
) -> None:
    site = bulk(3000, cache=True)
    site.sitemap_oldest_first = True
    newest = [s.slug for s in site.stories]  # the site's own order: newest first
    env = {"NEWSMON_MAX_RUN_FETCHES": str(CAP)}
    with ReplicaServer(site) as server:
        config = write_config(
            tmp_path, [{"name": "big", "spider": "eqmint", "url": server.base_url}]
        )
        first = run_newsmon(config, "crawl", "--no-deliver", env=env, timeout=300)
        assert first.returncode == 0, first.stderr
        # Fetched in the order chosen, newest first (a run stopped at its time limit has
        # then got the newest); parallel connections may swap neighbours, no more.
        rank = {f"/{slug}/": i for i, slug in enumerate(newest[:CAP])}
        asked = [rank[r.path] for r in server.requests if r.path in rank]
        assert len(asked) == CAP
        assert all(abs(position - i) <= 16 for position, i in enumerate(asked)), asked[:40]
        db = tmp_path / "newsmon.db"
        conn = sqlite3.connect(db)
        slugs = {
            u.rstrip("/").rsplit("/", 1)[1] for (u,) in conn.execute("SELECT url FROM articles")
        }
        conn.close()
        assert slugs == set(newest[:CAP])
        run = run_rows(db)[-1]
        assert run["status"] == "partial" and run["fetched"] == CAP
        # 3,000 stories and the two static pages of the page sitemap, dated oldest
        assert (run["discovered"], run["deferred"]) == (3002, 2002)
        assert "2002 stories left for later runs" in first.stdout + first.stderr
        assert_balanced(run)

        for _ in range(4):  # the rest, at most CAP a run
            later = run_newsmon(config, "crawl", "--no-deliver", env=env, timeout=300)
            assert later.returncode == 0, later.stderr
            if run_rows(db)[-1]["deferred"] == 0:
                break
        runs = run_rows(db)
        conn = sqlite3.connect(db)
        total = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        conn.close()
    assert total == 3000
    assert [r["deferred"] for r in runs] == [2002, 1002, 2, 0]
    assert [r["stored"] for r in runs] == [1000, 1000, 999, 1]
    assert [r["status"] for r in runs] == ["partial", "partial", "partial", "ok"]
    for run in runs:
        assert_balanced(run)
        assert run["fetched"] <= CAP


def test_an_unchanged_site_after_a_complete_run_costs_no_story_fetch(tmp_path: Path) -> None:
    """Deferred stories are not hidden by conditional GET: source state is kept only once a
    run got everything, and from then on an unchanged site answers 304."""
    site = bulk(60, cache=True)
    with ReplicaServer(site) as server:
        config = write_config(
            tmp_path, [{"name": "big", "spider": "eqmint", "url": server.base_url}]
        )
        env = {"NEWSMON_MAX_RUN_FETCHES": "25"}
        for _ in range(4):
            assert run_newsmon(config, "crawl", "--no-deliver", env=env).returncode == 0
        server.clear_requests()
        assert run_newsmon(config, "crawl", "--no-deliver", env=env).returncode == 0
        answered = {r.path: r.status for r in server.requests if r.path != "/robots.txt"}
    runs = run_rows(tmp_path / "newsmon.db")
    assert [r["deferred"] for r in runs] == [37, 12, 0, 0, 0]
    assert [r["stored"] for r in runs] == [25, 25, 10, 0, 0]
    assert runs[-1]["fetched"] == 0
    assert answered and set(answered.values()) == {304}, answered


def test_every_discovered_url_of_the_seed_sites_is_accounted_for(
    seed_config: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> None:
    caliber_server.set_fault(
        "/en/post/oil-prices-edge-higher-amid-supply-concerns", "status", code=500
    )
    first = run_newsmon(seed_config, "crawl", "--no-deliver")
    assert first.returncode == 0, first.stderr
    caliber_server.clear_faults()
    second = run_newsmon(seed_config, "crawl", "--no-deliver")
    assert second.returncode == 0, second.stderr
    runs = run_rows(seed_config.parent / "newsmon.db")
    for run in runs:
        assert_balanced(run)
    caliber = [r for r in runs if r["site"] == "caliber"]
    eqmint = [r for r in runs if r["site"] == "eqmint"]
    assert json.loads(caliber[0]["skip_reasons"]) == {"failed_fetch": 1}
    assert caliber[0]["status"] == "partial"
    assert caliber[0]["stored"] == len(caliber_server.site.stories) - 1  # but the failed one
    # EQMint's static pages are fetched once, found not to be stories, then remembered.
    assert json.loads(eqmint[0]["skip_reasons"]) == {"not_a_story": 2}
    assert eqmint[0]["stored"] == len(eqmint_server.site.stories)
    # The failed page was fetched again (its run did not keep the sources' state).
    assert caliber[1]["stored"] >= 1 and caliber[1]["status"] == "ok"
    listed = len(caliber_server.site.stories)
    assert f"discovered {listed}: stored {listed - 1}" in first.stdout
