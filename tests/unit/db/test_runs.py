"""How a run's end is recorded when two parts of newsmon record it: the first account of
how it ended stands, the counters are always kept."""

from __future__ import annotations

from pathlib import Path

import sqlite_utils

from crawler.db import connect, runs

KILLED = "killed at the time limit (1s + 1s grace): the crawl did not stop by itself"


def test_a_run_killed_at_its_limit_stays_killed_when_its_spider_records_it_later(
    tmp_path: Path,
) -> None:
    with connect(tmp_path / "newsmon.db") as db:
        run_id = runs.start(db, "caliber")
        # The daemon gives up on the crawl first and closes its run...
        assert runs.close_interrupted(db, "caliber", KILLED) == [run_id]
        ended_at = finished_at(db, run_id)
        # ...then the crawl's spider closes and records its own account of the end.
        runs.finish(db, run_id, "error", error="stopped at the time limit (1s)", pages=7)
        run = runs.latest(db, "caliber")
        assert finished_at(db, run_id) == ended_at
    assert run is not None
    assert (run.status, run.error, run.counts["pages"]) == ("error", KILLED, 7)


def finished_at(db: sqlite_utils.Database, run_id: int) -> str:
    return str(db.execute("SELECT finished_at FROM runs WHERE id = ?", (run_id,)).fetchone()[0])


def test_an_amendment_replaces_the_end_and_a_running_run_takes_any(tmp_path: Path) -> None:
    with connect(tmp_path / "newsmon.db") as db:
        run_id = runs.start(db, "eqmint")
        runs.finish(db, run_id, "partial", error="2 story pages failed", pages=3)
        partial = runs.latest(db, "eqmint")
        runs.finish(db, run_id, "error", error=KILLED, amend=True)
        amended = runs.latest(db, "eqmint")
        ok_id = runs.start(db, "eqmint")
        runs.finish(db, ok_id, "ok", error=None, pages=2)
        ok = runs.latest(db, "eqmint")
    assert partial is not None
    assert (partial.status, partial.error) == ("partial", "2 story pages failed")
    assert amended is not None and (amended.status, amended.error) == ("error", KILLED)
    assert amended.counts["pages"] == 3
    assert ok is not None
    assert (ok.id, ok.status, ok.error, ok.counts["pages"]) == (ok_id, "ok", None, 2)
