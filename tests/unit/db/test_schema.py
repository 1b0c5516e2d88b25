"""Schema migrations: a database made by an earlier release opens, upgrades in place, and
keeps its data; a new one gets the whole schema; the upgrade is safe to race."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest

from crawler.db import connect, runs, schema
from crawler.db.matching import WatchQuery, match_article

RELEASE_0_1_0 = Path(__file__).resolve().parents[2] / "fixtures/db/release-0.1.0.db.gz"


@pytest.fixture
def old_db(tmp_path: Path) -> Path:
    """A copy of the database newsmon 0.1.0 left after crawling both replica sites."""
    path = tmp_path / "newsmon.db"
    with gzip.open(RELEASE_0_1_0) as src, path.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return path


def counts(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        tables = ("articles", "article_versions", "matches", "alerts", "runs", "site_health")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
    finally:
        conn.close()


def columns(db, table: str) -> set[str]:
    return {c.name for c in db[table].columns}


def test_a_database_of_the_previous_release_migrates_with_its_data_intact(old_db: Path) -> None:
    before = counts(old_db)
    assert before["articles"] > 0 and before["matches"] > 0 and before["alerts"] > 0
    with connect(old_db) as db:
        assert schema.version(db) == schema.LATEST
        # Tables 0.1.0 only created when the daemon first needed them now exist.
        assert db["schedule"].exists()
        # The full-text index still answers for the stored stories.
        (hit,) = db.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH 'takaichi' LIMIT 1"
        ).fetchone()
        assert match_article(db.conn, hit, [("takaichi", "Takaichi")])
    assert counts(old_db) == before


def test_the_migration_indexes_stored_stories_by_their_language(old_db: Path) -> None:
    with connect(old_db) as db:
        indexed = dict(db.execute("SELECT rowid, analyzer FROM articles_stemmed").fetchall())
        languages = dict(db.execute("SELECT id, language FROM articles").fetchall())
        assert set(indexed) == set(languages)
        assert {languages[i]: indexed[i] for i in indexed} == {
            "en": "porter",
            "ru": "russian",
            "az": "turkish-az",
        }
        (russian,) = db.execute(
            "SELECT id FROM articles WHERE language = 'ru' AND title LIKE 'Такаити%'"
        ).fetchone()
        watch = WatchQuery("rare-earths", '"rare earths"', ('"редкоземельные металлы"',))
        (match,) = match_article(db.conn, russian, [watch])
        assert match.form == '"редкоземельные металлы"'
        assert "**редкоземельным металлам**" in match.snippet
        assert "matched_form" in columns(db, "matches")


def test_a_new_database_gets_every_table_and_the_latest_version(tmp_path: Path) -> None:
    with connect(tmp_path / "new.db") as db:
        assert schema.version(db) == schema.LATEST
        names = set(db.table_names())
        assert {
            "articles",
            "article_versions",
            "article_urls",
            "matches",
            "alerts",
            "runs",
            "http_cache",
            "source_state",
            "skipped_urls",
            "site_health",
            "schedule",
            "article_signatures",
            "lsh_bands",
            "articles_fts",
            "articles_stemmed",
        } <= names
        assert {"url", "title", "text", "published", "duplicate_of"} <= columns(db, "articles")


def test_opening_an_up_to_date_database_runs_no_migration(tmp_path: Path) -> None:
    with connect(tmp_path / "n.db") as db:
        assert schema.migrate(db) == 0


def test_a_failed_migration_leaves_the_file_at_its_last_good_version(
    old_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(db) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])
    monkeypatch.setattr(schema, "LATEST", len(schema.MIGRATIONS))
    with pytest.raises(RuntimeError, match="disk on fire"):
        connect(old_db)
    conn = sqlite3.connect(old_db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.LATEST - 1
        assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'half_done'").fetchone()
    finally:
        conn.close()


def test_processes_opening_an_old_file_at_once_migrate_it_once(old_db: Path) -> None:
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            with connect(old_db) as db:
                assert schema.version(db) == schema.LATEST
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert counts(old_db)["articles"] > 0


def test_the_runs_of_an_old_database_gain_the_accounting_columns(old_db: Path) -> None:
    with connect(old_db) as db:
        cols = columns(db, "runs")
        assert {name for name, _ in schema.RUN_ACCOUNTING} <= cols
        old_runs = list(db.query("SELECT discovered, deferred, skip_reasons FROM runs"))
        assert old_runs and all(
            r == {"discovered": 0, "deferred": 0, "skip_reasons": "{}"} for r in old_runs
        )
        run = runs.latest(db, "caliber")
        assert run is not None and run.counts["articles_new"] > 0
        assert run.counts["discovered"] == 0 and run.breakdowns["skip_reasons"] == {}
