"""The run record (``crawler.crawling.run_record``): fates in the ledger, the accounting read
from the crawl's stats, and the run's status from what it did and did not do."""

from __future__ import annotations

from scrapy.statscollectors import MemoryStatsCollector
from scrapy.utils.test import get_crawler

from crawler.crawling import run_record as record
from crawler.crawling.run_record import Accounting, Ledger

SETTINGS = {"NEWSMON_MAX_RUN_FETCHES": 1000, "NEWSMON_MAX_SOURCE_ITEMS": 50_000}


def stats() -> MemoryStatsCollector:
    return MemoryStatsCollector(get_crawler())


def balanced(fields: dict) -> bool:
    """The accounting identity of the README: every discovered URL is accounted for."""
    return fields["discovered"] == (
        fields["stored"] + fields["up_to_date"] + fields["deferred"] + fields["skipped"]
    )


def test_a_url_has_one_fate_at_a_time_and_the_stats_follow_it() -> None:
    collector = stats()
    ledger = Ledger(collector)
    ledger.settle("https://s.test/a", record.PENDING)
    ledger.settle("https://s.test/a", record.PENDING)
    ledger.settle("https://s.test/b", record.PENDING)
    ledger.settle("https://s.test/a", record.FETCHED)
    ledger.settle("https://s.test/b", record.DEFERRED)
    ledger.unexamined(5, record.OVER_CAP)
    got = collector.get_stats()
    assert got["newsmon/discovered"] == 7
    assert got["newsmon/urls/pending"] == 0
    assert (got["newsmon/urls/fetched"], got["newsmon/urls/deferred"]) == (1, 1)
    assert got["newsmon/urls/over_cap"] == 5


def test_every_discovered_url_is_accounted_for() -> None:
    collector = stats()
    ledger = Ledger(collector)
    fates = [record.FETCHED] * 6 + [record.UP_TO_DATE] * 3 + [record.DEFERRED] * 2
    fates += [record.TOO_OLD, record.NOT_A_STORY, record.OFF_SITE, record.PENDING]
    for n, fate in enumerate(fates):
        ledger.settle(f"https://s.test/{n}", fate)
    for outcome in ("new", "new", "changed"):
        collector.inc_value(record.stored_key(outcome))
    collector.inc_value(record.outcome_key(record.NOT_A_STORY))
    collector.inc_value(record.outcome_key(record.OFF_SITE))  # redirected to another host
    fields = Accounting(collector.get_stats()).fields()
    assert fields["discovered"] == 15 and fields["fetched"] == 6 and fields["stored"] == 3
    assert fields["deferred"] == 3  # still pending when the run ended: left for later too
    assert fields["skip_reasons"] == {
        "too_old": 1,
        "not_a_story": 2,
        "off_site": 2,
        "interrupted": 1,  # fetched, never answered: the run was stopped
    }
    assert balanced(fields)
    assert (fields["articles_new"], fields["articles_changed"], fields["errors"]) == (2, 1, 0)


def test_a_run_that_left_stories_over_a_cap_is_partial_and_says_so() -> None:
    collector = stats()
    collector.inc_value("newsmon/sources/ok")
    ledger = Ledger(collector)
    ledger.settle("https://s.test/new", record.FETCHED)
    ledger.settle("https://s.test/old", record.DEFERRED)
    status, error = Accounting(collector.get_stats()).outcome_of("finished", "10m", SETTINGS)
    assert status == "partial"
    assert error == (
        "1 stories left for later runs (at most 1000 story fetches a run, newest first: "
        "NEWSMON_MAX_RUN_FETCHES)"
    )
    ledger.unexamined(3, record.OVER_CAP)
    status, error = Accounting(collector.get_stats()).outcome_of("finished", "10m", SETTINGS)
    assert "3 links skipped over the per-source cap of 50000" in (error or "")


def test_run_outcomes_from_the_stats() -> None:
    collector = stats()
    outcome = Accounting(collector.get_stats()).outcome_of
    assert outcome("time_limit", "10m", SETTINGS) == ("error", "stopped at the time limit (10m)")
    assert outcome("finished", "10m", SETTINGS) == (
        "error",
        "every discovery source failed: no sources",
    )
    collector.inc_value("newsmon/sources/ok")
    assert outcome("finished", "10m", SETTINGS)[1] == (
        "discovery found no stories on any source (site changed or empty?)"
    )
    Ledger(collector).settle("https://s.test/a", record.UP_TO_DATE)
    assert Accounting(collector.get_stats()).outcome_of("finished", "10m", SETTINGS) == (
        "ok",
        None,
    )
    for n in range(12):
        collector.inc_value(record.outcome_key(record.FAILED_FETCH))
        record.note(collector, "newsmon/errors/pages", f"https://s.test/{n} (HTTP 500)")
    status, error = Accounting(collector.get_stats()).outcome_of("finished", "10m", SETTINGS)
    assert status == "partial"
    assert error is not None and error.startswith("12 story pages failed: https://s.test/0 (HTTP")
    assert error.endswith("and 2 more")
