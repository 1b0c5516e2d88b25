"""The run record: a crawl's numbers live in Scrapy's stats collector, and one extension writes
them to the ``runs`` table, as Scrapy's corestats and closespider extensions do.

Spiders and pipelines only ``inc_value`` the ``newsmon/...`` keys below. ``RunRecord`` starts the
run's row on ``spider_opened`` and finishes it on ``spider_closed`` (after the pipelines have
closed, so the last batch of stories is counted) with its status, counts and accounting.

Accounting: every story URL a source lists gets one fate in the run's ``Ledger``, kept in the
stats as it changes (``newsmon/urls/<fate>``), so the numbers are right whenever the run ends::

    discovered = stored + up_to_date + deferred + skipped   (skipped: with a reason each)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.statscollectors import StatsCollector

from crawler.db import connect, runs

logger = logging.getLogger(__name__)

PREFIX = "newsmon/"
DISCOVERED = PREFIX + "discovered"
# Fates of a discovered story URL before any fetch (``Ledger``).
PENDING, FETCHED, DEFERRED, UP_TO_DATE = "pending", "fetched", "deferred", "up_to_date"
TOO_OLD, NOT_A_STORY, OFF_SITE, OVER_CAP = "too_old", "not_a_story", "off_site", "over_cap"
SKIPPED_UNFETCHED = (TOO_OLD, NOT_A_STORY, OFF_SITE, OVER_CAP)
# What became of a fetched story page that was not stored (``outcome``; also NOT_A_STORY,
# and OFF_SITE for a page that redirects to another host).
FAILED_FETCH, GONE, REPEAT = "failed_fetch", "gone", "repeat"
EXTRACT_FAILED, STORE_FAILED, INTERRUPTED = "extract_failed", "store_failed", "interrupted"
FAILURES = (FAILED_FETCH, EXTRACT_FAILED, STORE_FAILED)
STORED_OUTCOMES = ("new", "changed", "unchanged", "duplicate")
RULE_MATCHES = ("full", "partial", "none")
MAX_LISTED = 10  # failed sources / pages named in a run's error (the log has every one)


def urls_key(fate: str) -> str:
    return f"{PREFIX}urls/{fate}"


def outcome_key(reason: str) -> str:
    """A fetched page that was not stored, by reason."""
    return f"{PREFIX}outcome/{reason}"


def stored_key(outcome: str) -> str:
    return f"{PREFIX}stored/{outcome}"


def rules_key(matched: str) -> str:
    return f"{PREFIX}rules/{matched}"


def fallback_key(field: str) -> str:
    return f"{PREFIX}fallback/{field}"


class Ledger:
    """The fate of every story URL discovered in this run, one per URL, counted in the stats.

    A URL's fate may change while discovery goes on (``pending`` becomes ``fetched``,
    ``deferred`` or ``up_to_date``); the stats always hold the current count of each.
    """

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats
        self.fates: dict[str, str] = {}

    def fate(self, url: str) -> str | None:
        return self.fates.get(url)

    def settle(self, url: str, fate: str) -> None:
        """Record (or change) the fate of ``url``."""
        old = self.fates.get(url)
        if old == fate:
            return
        if old is None:
            self.stats.inc_value(DISCOVERED)
        else:
            self.stats.inc_value(urls_key(old), -1)
        self.stats.inc_value(urls_key(fate))
        self.fates[url] = fate

    def first(self, url: str, fate: str) -> None:
        """Record the fate of ``url`` unless it has one already."""
        if url not in self.fates:
            self.settle(url, fate)

    def unexamined(self, count: int, fate: str) -> None:
        """``count`` listed links that were never looked at (over a cap): counted, no URLs."""
        if count > 0:
            self.stats.inc_value(DISCOVERED, count)
            self.stats.inc_value(urls_key(fate), count)


def note(stats: StatsCollector, key: str, text: str, limit: int = MAX_LISTED) -> None:
    """Keep the first ``limit`` texts under ``key`` (failed sources and pages, for the run's
    error); how many there were in all is counted separately."""
    kept = stats.get_value(key) or []
    if len(kept) < limit:
        stats.set_value(key, [*kept, text])


class Accounting:
    """The run's numbers as the ``runs`` row holds them, read from the stats."""

    def __init__(self, stats: Mapping[str, Any]) -> None:
        self.stats = stats

    def get(self, key: str) -> int:
        return int(self.stats.get(key) or 0)

    def urls(self, fate: str) -> int:
        return self.get(urls_key(fate))

    def outcome(self, reason: str) -> int:
        return self.get(outcome_key(reason))

    @property
    def stored(self) -> int:
        return sum(self.get(stored_key(o)) for o in STORED_OUTCOMES)

    @property
    def fetched(self) -> int:
        return self.urls(FETCHED)

    @property
    def deferred(self) -> int:
        # Still pending when the run ended (stopped before discovery finished): left for later.
        return self.urls(DEFERRED) + self.urls(PENDING)

    def skip_reasons(self) -> dict[str, int]:
        """Why discovered stories were neither stored, up to date nor deferred, with counts."""
        after = {r: self.outcome(r) for r in (NOT_A_STORY, OFF_SITE, *FAILURES, GONE, REPEAT)}
        # Fetches still in flight when the run was stopped: neither stored nor skipped yet.
        after[INTERRUPTED] = max(self.fetched - self.stored - sum(after.values()), 0)
        reasons = {r: self.urls(r) for r in SKIPPED_UNFETCHED}
        for reason, count in after.items():
            reasons[reason] = reasons.get(reason, 0) + count
        return {reason: count for reason, count in reasons.items() if count}

    def fallback_fields(self) -> dict[str, int]:
        prefix = fallback_key("")
        return {
            key[len(prefix) :]: int(value)
            for key, value in self.stats.items()
            if key.startswith(prefix) and value
        }

    def fields(self) -> dict[str, Any]:
        """Every counter and breakdown of the ``runs`` row."""
        reasons = self.skip_reasons()
        failed = sum(self.outcome(r) for r in FAILURES)
        return {
            "pages": self.get(PREFIX + "pages"),
            "articles_new": self.get(stored_key("new")),
            "articles_changed": self.get(stored_key("changed")),
            "articles_unchanged": self.get(stored_key("unchanged")),
            "duplicates": self.get(stored_key("duplicate")),
            "matches": self.get(PREFIX + "matches"),
            "errors": self.get(PREFIX + "sources/failed") + failed,
            "discovered": self.get(DISCOVERED),
            "new_urls": self.get(PREFIX + "wanted/new"),
            "due": self.get(PREFIX + "wanted/due"),
            "up_to_date": self.urls(UP_TO_DATE),
            "fetched": self.fetched,
            "stored": self.stored,
            "deferred": self.deferred,
            "skipped": sum(reasons.values()),
            "skip_reasons": reasons,
            "fallbacks": self.get(PREFIX + "fallbacks"),
            "fallback_fields": self.fallback_fields(),
            **{f"rules_{m}": self.get(rules_key(m)) for m in RULE_MATCHES},
            "listed": self.get(PREFIX + "listed"),
            "off_pattern": self.get(PREFIX + "off_pattern"),
        }

    def outcome_of(
        self, reason: str, time_limit: str, settings: Mapping[str, Any]
    ) -> tuple[str, str | None]:
        """``ok``, ``partial`` (some sources or pages failed, or stories were left over a cap)
        or ``error`` (the site could not be crawled), with the reason."""
        sources = self.stats.get(PREFIX + "errors/sources") or []
        failures = "; ".join(sources[:5])
        if reason == "time_limit":
            return "error", f"stopped at the time limit ({time_limit})"
        if not self.get(PREFIX + "sources/ok"):
            return "error", f"every discovery source failed: {failures or 'no sources'}"
        candidates = sum(self.urls(f) for f in (PENDING, FETCHED, DEFERRED, UP_TO_DATE, TOO_OLD))
        if not candidates and not self.get(PREFIX + "sources/unchanged"):
            return "error", "discovery found no stories on any source (site changed or empty?)"
        parts = [failures, self._pages_failed(), *self._left_over(settings)]
        parts = [p for p in parts if p]
        return ("partial", "; ".join(parts)) if parts else ("ok", None)

    def _pages_failed(self) -> str:
        """The failed story pages for the run's error: how many, and the first few."""
        count = self.outcome(FAILED_FETCH)
        if not count:
            return ""
        shown = list(self.stats.get(PREFIX + "errors/pages") or [])[:MAX_LISTED]
        more = count - len(shown)
        listed = ", ".join(shown) + (f" and {more} more" if more and shown else "")
        return f"{count} story pages failed" + (f": {listed}" if listed else "")

    def _left_over(self, settings: Mapping[str, Any]) -> list[str]:
        """What the run knowingly did not do: stories over a cap, pages it could not keep."""
        parts = []
        if self.deferred:
            cap = settings.get("NEWSMON_MAX_RUN_FETCHES")
            parts.append(
                f"{self.deferred} stories left for later runs (at most {cap} story fetches "
                "a run, newest first: NEWSMON_MAX_RUN_FETCHES)"
            )
        if self.urls(OVER_CAP):
            cap = settings.get("NEWSMON_MAX_SOURCE_ITEMS")
            parts.append(
                f"{self.urls(OVER_CAP)} links skipped over the per-source cap of {cap} "
                "(NEWSMON_MAX_SOURCE_ITEMS)"
            )
        if self.outcome(EXTRACT_FAILED):
            parts.append(f"{self.outcome(EXTRACT_FAILED)} story pages failed extraction")
        if self.outcome(STORE_FAILED):
            parts.append(f"{self.outcome(STORE_FAILED)} stories could not be saved (see the log)")
        return parts


class RunRecord:
    """Writes the crawl's ``runs`` row from its stats: started when the spider opens,
    finished with its status, counts and accounting when it closes."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.run_id = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecord:
        if not crawler.settings.getbool("NEWSMON_STORE_ENABLED", True):
            raise NotConfigured("storage disabled: no run is recorded")
        record = cls(crawler)
        crawler.signals.connect(record.opened, signal=signals.spider_opened)
        crawler.signals.connect(record.closed, signal=signals.spider_closed)
        return record

    def opened(self, spider: Any) -> None:
        site, config = getattr(spider, "site", None), getattr(spider, "config", None)
        if site is None or config is None:
            return  # not a newsmon site spider
        with connect(config.database) as db:
            runs.close_interrupted(db, site.name)
            self.run_id = runs.start(db, site.name)

    def closed(self, spider: Any, reason: str) -> None:
        if not self.run_id:
            return
        accounting = Accounting(self.crawler.stats.get_stats())
        settings = {
            key: self.crawler.settings.get(key)
            for key in ("NEWSMON_MAX_RUN_FETCHES", "NEWSMON_MAX_SOURCE_ITEMS")
        }
        status, error = accounting.outcome_of(reason, spider.site.time_limit, settings)
        with connect(spider.config.database) as db:
            runs.finish(db, self.run_id, status, error=error, **accounting.fields())
        logger.info("%s: run %d %s", spider.site.name, self.run_id, status)
