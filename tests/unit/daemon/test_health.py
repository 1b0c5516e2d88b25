"""Site health transitions on a real SQLite file: one notice per problem, one when it ends."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlite_utils

from crawler.config import Config, parse_config
from crawler.daemon import health, schedule
from crawler.daemon.status import site_status
from crawler.db import connect, transaction, utcnow

T0 = datetime(2025, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return parse_config(
        {
            "database": str(tmp_path / "newsmon.db"),
            "health_failures": 3,
            "health_silence": "1d",
            "sites": [
                {"name": "caliber", "spider": "caliber", "url": "http://127.0.0.1:9/en/"},
                {"name": "eqmint", "spider": "eqmint", "url": "http://127.0.0.1:9/"},
            ],
            "alerts": {
                "slack": {"webhook_url": "http://127.0.0.1:9/hook"},
                "email": {"host": "127.0.0.1", "sender": "a@example.org", "to": ["b@example.org"]},
            },
        }
    )


@pytest.fixture
def db(config: Config) -> sqlite_utils.Database:
    conn = connect(config.database)
    yield conn
    conn.close()


class Runs:
    """Adds runs of one site an hour apart, re-assessing health after each as the daemon does."""

    def __init__(self, db: sqlite_utils.Database, config: Config, site: str = "caliber"):
        self.db, self.config, self.site = db, config, site
        self.clock = T0

    def add(
        self, status: str, new: int = 0, error: str | None = None, **accounting: object
    ) -> health.Transition | None:
        stamp = self.clock.isoformat()
        row = {"site": self.site, "started_at": stamp, "finished_at": stamp, "status": status}
        row.update(articles_new=new, error=error, **accounting)
        if isinstance(row.get("fallback_fields"), dict):
            row["fallback_fields"] = json.dumps(row["fallback_fields"])
        with transaction(self.db):
            self.db.execute(
                f"INSERT INTO runs ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                tuple(row.values()),
            )
        self.clock += timedelta(hours=1)
        # A fresh connection each time: the state must live in the file, not in memory.
        conn = connect(self.config.database)
        try:
            return health.update(conn, self.config, self.site, now=self.clock)
        finally:
            conn.close()


def notices(db: sqlite_utils.Database) -> list[tuple[str, str, dict[str, str]]]:
    rows = db.execute(
        "SELECT kind, channel, payload FROM alerts WHERE kind IN ('health', 'recovered') "
        "ORDER BY id"
    ).fetchall()
    return [(kind, channel, json.loads(payload)) for kind, channel, payload in rows]


def kinds(db: sqlite_utils.Database) -> list[str]:
    return [kind for kind, channel, _ in notices(db) if channel == "slack"]


def test_n_failures_in_a_row_raise_one_health_notice_per_channel(
    db: sqlite_utils.Database, config: Config
) -> None:
    runs = Runs(db, config)
    runs.add("ok", new=3)
    runs.add("error", error="every discovery source failed: feed: HTTP 503")
    runs.add("error", error="every discovery source failed: feed: HTTP 503")
    assert notices(db) == []
    change = runs.add("error", error="every discovery source failed: feed: HTTP 503\ndetail")
    assert change is not None
    assert (change.old, change.new, change.notice) == ("ok", "failing", "health")
    for _ in range(4):
        assert runs.add("error", error="still down") is None
    found = notices(db)
    assert sorted(channel for _, channel, _ in found) == ["email", "slack"]
    kind, _, payload = found[0]
    assert kind == "health"
    assert payload["site"] == "caliber"
    assert payload["message"] == (
        "3 crawls in a row failed; last error: every discovery source failed: feed: HTTP 503"
    )
    assert health.stored_state(db, "caliber") == "failing"


def test_recovery_raises_one_recovered_notice(db: sqlite_utils.Database, config: Config) -> None:
    runs = Runs(db, config)
    for _ in range(3):
        runs.add("error", error="boom")
    change = runs.add("ok", new=1)
    assert change is not None and change.notice == "recovered"
    runs.add("ok", new=2)
    runs.add("partial", new=1)
    assert kinds(db) == ["health", "recovered"]
    recovered = notices(db)[-1][2]["message"]
    assert recovered.startswith("crawling normally again (was failing since 2025-11-01T")
    assert health.stored_state(db, "caliber") == "ok"


def test_partial_runs_and_running_rows_do_not_count_as_failures(
    db: sqlite_utils.Database, config: Config
) -> None:
    runs = Runs(db, config)
    runs.add("error", error="boom")
    runs.add("error", error="boom")
    runs.add("partial", new=1)
    runs.add("error", error="boom")
    runs.add("running")  # a crawl in progress says nothing yet
    runs.add("error", error="boom")
    assert kinds(db) == []
    runs.add("error", error="boom")
    assert kinds(db) == ["health"]


def test_no_new_stories_for_the_silence_window_is_one_notice(
    db: sqlite_utils.Database, config: Config
) -> None:
    runs = Runs(db, config)
    runs.add("ok", new=5)
    for _ in range(23):  # 23 hours of nothing new: still within the 1d window
        runs.add("ok")
    assert kinds(db) == []
    change = runs.add("ok")  # 24 hours after the last new story
    assert change is not None and (change.new, change.notice) == ("silent", "health")
    assert notices(db)[0][2]["message"].startswith("no new stories for 1d")
    for _ in range(10):
        runs.add("ok")
    assert kinds(db) == ["health"]
    runs.add("ok", new=1)
    assert kinds(db) == ["health", "recovered"]


def test_a_site_that_never_yields_anything_goes_silent(
    db: sqlite_utils.Database, config: Config
) -> None:
    runs = Runs(db, config)
    for _ in range(25):
        runs.add("ok")
    assert kinds(db) == ["health"]
    assert "none ever" in notices(db)[0][2]["message"]


def test_a_problem_that_changes_shape_is_still_one_notice(
    db: sqlite_utils.Database, config: Config
) -> None:
    runs = Runs(db, config)
    runs.add("ok", new=1)
    for _ in range(24):
        runs.add("error", error="boom")
    assert health.stored_state(db, "caliber") == "failing"
    runs.add("ok")  # it crawls again, but nothing new for a day: failing becomes silent
    assert health.stored_state(db, "caliber") == "silent"
    assert kinds(db) == ["health"]
    runs.add("ok", new=2)
    assert kinds(db) == ["health", "recovered"]


def test_sites_are_assessed_independently(db: sqlite_utils.Database, config: Config) -> None:
    caliber, eqmint = Runs(db, config, "caliber"), Runs(db, config, "eqmint")
    for _ in range(3):
        caliber.add("error", error="boom")
        eqmint.add("ok", new=1)
    assert [p["site"] for _, c, p in notices(db) if c == "slack"] == ["caliber"]
    assert health.stored_state(db, "eqmint") == "ok"


def test_no_channels_still_keeps_the_state(tmp_path: Path) -> None:
    config = parse_config(
        {
            "database": str(tmp_path / "n.db"),
            "sites": [{"name": "caliber", "spider": "caliber", "url": "http://127.0.0.1:9/"}],
        }
    )
    db = connect(config.database)
    try:
        runs = Runs(db, config)
        for _ in range(3):
            runs.add("error", error="boom")
        assert health.stored_state(db, "caliber") == "failing"
        assert notices(db) == []
    finally:
        db.close()


def test_status_shows_health_and_the_daemons_next_run(
    db: sqlite_utils.Database, config: Config
) -> None:
    runs = Runs(db, config)
    for _ in range(3):
        runs.add("error", error="boom")
    by_site = {r["site"]: r for r in site_status(db, config)}
    assert by_site["caliber"]["health"] == "failing"
    assert by_site["caliber"]["next_run"] == "now"  # overdue, and no daemon is running
    assert by_site["eqmint"]["health"] == "unknown"
    assert by_site["eqmint"]["next_run"] == "now"
    when = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)
    schedule.publish(db, "caliber", when)  # as a live daemon (this process) does
    status = {r["site"]: r for r in site_status(db, config)}["caliber"]
    assert status["next_run"] == "2030-01-01T12:00:00+00:00"
    assert set(status) >= {
        "site", "last_run", "last_status", "last_error", "next_run", "health", "pages",
        "articles_new", "articles_changed", "articles_unchanged", "duplicates", "matches",
        "errors",
    }  # fmt: skip
    schedule.unpublish(db)
    status = {r["site"]: r for r in site_status(db, config)}["caliber"]
    assert status["next_run"] == "now"


def test_a_dead_daemons_schedule_is_ignored(db: sqlite_utils.Database, config: Config) -> None:
    with transaction(db):
        db.execute(
            "INSERT INTO schedule (site, next_run, pid, updated_at) VALUES (?, ?, ?, ?)",
            ("caliber", "2030-01-01T12:00:00+00:00", 2**22 + 12345, utcnow()),
        )
    status = {r["site"]: r for r in site_status(db, config)}["caliber"]
    assert status["next_run"] == "now"


def test_notices_go_only_to_the_operator_channels(tmp_path: Path) -> None:
    config = parse_config(
        {
            "database": str(tmp_path / "n.db"),
            "sites": [{"name": "caliber", "spider": "caliber", "url": "http://127.0.0.1:9/"}],
            "alerts": {
                "slack": {"webhook_url": "http://127.0.0.1:9/hook"},
                "channels": [
                    {"name": "ops-hook", "type": "apprise", "url": "json://127.0.0.1:9/x"},
                    {"name": "pager", "type": "apprise", "url": "json://127.0.0.1:9/y"},
                ],
                "operator": ["ops-hook", "pager"],
            },
        }
    )
    db = connect(config.database)
    try:
        runs = Runs(db, config)
        for _ in range(3):
            runs.add("error", error="boom")
        runs.add("ok", new=1)
        assert [(kind, channel) for kind, channel, _ in notices(db)] == [
            ("health", "ops-hook"),
            ("health", "pager"),
            ("recovered", "ops-hook"),
            ("recovered", "pager"),
        ]
    finally:
        db.close()


# --- drift: the site's rules no longer fit its pages -------------------------------------------

THEME_CHANGED = {"container": 1, "title": 1, "body": 1}


def pages(full: int = 0, fell_back: int = 0, fields: dict[str, int] | None = None) -> dict:
    """Accounting of a run whose story pages the rules fit (``full``) or did not."""
    fields = fields if fields is not None else THEME_CHANGED
    return {
        "rules_full": full,
        "rules_none": fell_back,
        "fallbacks": fell_back,
        "fallback_fields": {name: fell_back * n for name, n in fields.items()},
    }


def test_most_pages_falling_back_is_one_drift_notice_and_one_recovery(
    db: sqlite_utils.Database, config: Config
) -> None:
    runs = Runs(db, config)
    runs.add("ok", new=10, **pages(full=10))
    change = runs.add("ok", new=4, **pages(fell_back=4))
    assert change is not None and (change.new, change.notice) == ("drifted", "health")
    message = notices(db)[0][2]["message"]
    assert message == (
        "4 of 4 story pages no longer match the site's rules; stored with generic extraction "
        "(fields from generic extraction: body 4, container 4, title 4)"
    )
    runs.add("ok", new=0)  # nothing fetched: no evidence either way
    runs.add("ok", new=3, **pages(fell_back=3))
    assert kinds(db) == ["health"]
    assert site_status(db, config)[0]["health"] == "drifted"
    assert site_status(db, config)[0]["health_detail"].startswith("3 of 3 story pages")
    change = runs.add("ok", new=3, **pages(full=3))
    assert change is not None and change.notice == "recovered"
    assert notices(db)[-1][2]["message"].startswith("the site's rules match again (was drifted")
    assert kinds(db) == ["health", "recovered"]


def test_a_few_pages_falling_back_are_no_drift(db: sqlite_utils.Database, config: Config) -> None:
    runs = Runs(db, config)
    runs.add("ok", new=9, **pages(full=8, fell_back=1))
    runs.add("ok", new=1, **pages(fell_back=1))  # one odd page: judged with the earlier ones
    runs.add("ok", new=5, **pages(full=3, fell_back=2))
    assert kinds(db) == []
    assert health.stored_state(db, "caliber") == "ok"


def test_a_date_the_rules_never_found_everywhere_is_no_drift_but_one_always_found_is(
    db: sqlite_utils.Database, config: Config
) -> None:
    # Caliber's English date format never fit its Russian pages: a run of Russian stories is
    # no news. EQMint's date selector that found every date, then none, is.
    caliber, eqmint = Runs(db, config, "caliber"), Runs(db, config, "eqmint")
    caliber.add("ok", new=13, **pages(full=10, fell_back=3, fields={"date": 1}))
    caliber.add("ok", new=3, **pages(fell_back=3, fields={"date": 1}))
    eqmint.add("ok", new=10, **pages(full=10))
    eqmint.add("ok", new=3, **pages(fell_back=3, fields={"date": 1}))
    assert health.stored_state(db, "caliber") == "ok"
    assert health.stored_state(db, "eqmint") == "drifted"
    assert [p["site"] for _, c, p in notices(db) if c == "slack"] == ["eqmint"]


def test_a_first_crawl_the_rules_do_not_fit_drifts_at_once(
    db: sqlite_utils.Database, config: Config
) -> None:
    runs = Runs(db, config, "eqmint")
    change = runs.add("ok", new=60, **pages(fell_back=60))
    assert change is not None and change.new == "drifted"
    assert notices(db)[0][2]["message"].startswith("60 of 60 story pages no longer match")


def test_stories_the_feeds_list_outside_the_article_pattern_are_drift(
    db: sqlite_utils.Database, config: Config
) -> None:
    runs = Runs(db, config)
    runs.add("ok", new=5, listed=5, off_pattern=0)
    change = runs.add("ok", new=6, listed=7, off_pattern=4)
    assert change is not None and change.new == "drifted"
    assert notices(db)[0][2]["message"] == (
        "4 of 7 stories its feeds list no longer match its article_pattern; "
        "fetched and stored all the same"
    )


def test_drift_and_failure_are_different_problems_each_with_its_notice(
    db: sqlite_utils.Database, config: Config
) -> None:
    runs = Runs(db, config)
    runs.add("ok", new=4, **pages(fell_back=4))
    for _ in range(3):
        runs.add("error", error="every discovery source failed: feed: HTTP 503")
    assert health.stored_state(db, "caliber") == "failing"
    assert kinds(db) == ["health", "health"]
    runs.add("ok", new=3, **pages(full=3))
    assert kinds(db) == ["health", "health", "recovered"]
