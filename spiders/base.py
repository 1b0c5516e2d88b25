"""The shared base spider: discovery from every source a site has, and incremental fetching.

A site spider declares its sources and extraction rules as class attributes; this class
combines feeds, sitemaps, listings, site search and the WordPress REST API (asked with
conditional GET, see ``spiders.sources``), deduplicates the story URLs they list, and fetches
only stories that are new or due for a change check (the policy is in
``crawler.discovery.incremental``, the memory between runs in ``crawler.db.crawl_state``). One
broken source costs nothing but a line in the run's error; a site where every source fails, or where
discovery finds no story at all, is a failed run.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from crawler.config import Config, Site, load_config, parse_interval
from crawler.db.crawl_state import CrawlState
from crawler.discovery.incremental import FETCH, LATER, Known, RecheckPolicy, too_old
from crawler.extract.article import SiteRules
from crawler.extract.html import decode_html
from crawler.story import Story
from crawler.urls import canonicalize_url, same_site
from spiders.sources import (
    SourceSpider,
    conditional_headers,
    failure_reason,
    first_url,
    response_header,
)

GONE = (404, 410)
# Longer links are junk or hostile (and slow to canonicalize and match against patterns).
MAX_URL_LENGTH = 2048
MAX_LISTED = 10  # failed story pages named in a run's error (the log has every one)


class NewsSpider(SourceSpider):
    """Base for every site spider. Paths are resolved against the site's configured ``url``."""

    article_pattern: ClassVar[str] = r"."
    rules: ClassVar[SiteRules] = SiteRules()

    def __init__(
        self, site: Site | str | None = None, config: Config | str | None = None, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.config = config if isinstance(config, Config) else load_config(config)
        self.site = site if isinstance(site, Site) else self._site_from_config(site)
        self.base_url = self.site.url
        # Scrapy's offsite middleware drops requests, redirects included, to any other host.
        self.allowed_domains = allowed_hosts(self.site)
        self.pattern = re.compile(self.site.article_pattern or self.article_pattern)
        self.requested: set[str] = set()
        self.discovered: set[str] = set()
        self.page_failures = 0
        self.failed_pages: list[str] = []  # "url (reason)" of each story page that failed
        self.pages = 0
        self.state = CrawlState(self.site.name)
        self.known: dict[str, Known] = {}
        self.later: dict[str, dict[str, str]] = {}  # fetched once discovery is done
        self.expired: set[str] = set()  # dated before max_age by some source
        self.dated: set[str] = set()  # stories a dated source vouched for
        self.overdue: set[str] = set()  # rule 4
        self.run_id = 0

    def _site_from_config(self, name: str | None) -> Site:
        for site in self.config.sites:
            if site.name == name or (name is None and site.spider == self.name):
                return site
        raise ValueError(f"no site in the config uses spider {self.name!r} (give -a site=NAME)")

    # --- run setup -------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self._setup()
        for request in self.source_requests():
            yield request

    def _setup(self) -> None:
        self.now = datetime.now(UTC)
        self.state = CrawlState.load(self.config.database, self.site.name)
        self.known = self.state.known
        every = parse_interval(self.site.recheck)
        self.policy = RecheckPolicy(self.now, timedelta(days=self.config.recheck_days), every)
        self.overdue = {url for url, known in self.known.items() if self.policy.overdue(known)}
        self.backfill = self.settings.getint("NEWSMON_BACKFILL_DAYS", 0)
        self.max_age = parse_interval(self.site.max_age) if self.site.max_age else None
        if self.backfill:  # `newsmon crawl SITE --backfill DAYS` overrides max_age for one run
            self.max_age = timedelta(days=self.backfill)
        self.crawler.signals.connect(self._when_idle, signal=signals.spider_idle)
        self.crawler.signals.connect(self._item_dropped, signal=signals.item_dropped)
        self._start_clock()

    # --- stories ---------------------------------------------------------------------------

    def is_story_url(self, url: str) -> bool:
        """Whether a same-site URL looks like a story (the site's article pattern)."""
        return bool(self.pattern.search(url))

    def story_request(
        self, url: str, hints: dict[str, str], source_changed: bool = True
    ) -> scrapy.Request | None:
        """A request for a discovered story, or None if it is off-site, not a story, already
        requested in this run, too old, or known and not due for a change check now."""
        if len(url) > MAX_URL_LENGTH:
            return None
        url = canonicalize_url(url)
        if not same_site(url, self.base_url) or not self.is_story_url(url):
            return None
        if url in self.state.skipped or url in self.source_urls:
            return None
        self.discovered.add(url)
        if url in self.requested or url in self.expired:
            return None
        if too_old(hints, self.max_age, self.now):
            self.expired.add(url)
            return None
        known = self.known.get(url)
        decision = self._decide(url, known, hints, source_changed)
        if decision == LATER:
            self.later.setdefault(url, hints)
        return self._fetch(url, hints, known) if decision == FETCH else None

    def _decide(self, url: str, known: Known | None, hints: dict[str, str], changed: bool) -> str:
        if "modified" in hints:
            self.dated.add(url)
        decision = self.policy.decide(known, hints, changed)
        undated = not {"published", "modified"} & hints.keys()
        if decision == FETCH and known is None and undated and self.max_age:
            return LATER  # a dated source may yet put it past max_age
        return decision

    def _fetch(self, url: str, hints: dict[str, str], known: Known | None) -> scrapy.Request:
        self.requested.add(url)
        meta: dict[str, Any] = {"hints": hints, "recheck": known is not None}
        headers = {}
        if known is not None:
            meta["handle_httpstatus_list"] = [304]
            headers = conditional_headers(known.etag, known.last_modified)
        # Deduplicated by ``self.requested`` already. Scrapy's duplicate filter would also
        # swallow a redirect loop's way back to this URL without a word, losing the page
        # silently; unfiltered, the loop ends at REDIRECT_MAX_TIMES as a recorded failure.
        return scrapy.Request(
            url,
            callback=self.parse_story,
            errback=self.story_failed,
            headers=headers,
            meta=meta,
            dont_filter=True,
        )

    def _when_idle(self) -> None:
        """Discovery is done: fetch what waited for it (see crawler.discovery.incremental):
        re-checks that no dated source made unnecessary, undated new stories no dated source put
        past max_age, and overdue re-checks."""
        later, self.later = self.later, {}
        overdue, self.overdue = self.overdue, set()
        urls = [u for u in later if not (u in self.known and u in self.dated)] + sorted(overdue)
        requests = [
            self._fetch(url, later.get(url, {}), self.known.get(url))
            for url in dict.fromkeys(urls)
            if url not in self.requested and url not in self.expired
        ]
        for request in requests:
            self.crawler.engine.crawl(request)  # type: ignore[union-attr]
        if requests:
            raise DontCloseSpider

    def parse_story(self, response: Response) -> Iterable[Story]:
        self.pages += 1
        hints = dict(response.meta.get("hints", {}))
        story = Story(
            url=response.url,
            site=self.site.name,
            aliases=[response.request.url] if response.request else [],
            hints=hints,
            etag=response_header(response, "ETag"),
            last_modified=response_header(response, "Last-Modified"),
        )
        if response.status == 304:
            story.not_modified = True
        else:
            # Raw bytes, not response.text: Scrapy trusts the declared charset even when the
            # bytes contradict it, and mojibake would hide (or fake) watch matches.
            story.html = decode_html(response.body, response_header(response, "Content-Type"))
        yield story

    def story_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        status = getattr(getattr(failure.value, "response", None), "status", None)
        if status in GONE and (request.meta.get("recheck") or self.speculative):
            # A story taken down since we stored it, or a guessed link that leads nowhere: not
            # a failure of the run. The guess is remembered so it is not fetched again.
            self.logger.info("no story at %s (HTTP %s)", request.url, status)
            if not request.meta.get("recheck"):
                self.state.not_a_story(canonicalize_url(request.url), f"HTTP {status}")
            return
        self.page_failures += 1
        url, reason = first_url(request), failure_reason(failure)  # the URL before redirects
        self.failed_pages.append(f"{url} ({reason})")
        self.logger.warning("story page failed: %s (%s)", url, reason)

    @property
    def speculative(self) -> bool:
        """Whether story candidates are guesses (every link of a page), not pattern matches."""
        return False

    def _item_dropped(self, item: Any, exception: BaseException, **kw: Any) -> None:
        if isinstance(item, Story) and str(exception).startswith("not a story"):
            for url in {item.url, *item.aliases}:
                self.state.not_a_story(canonicalize_url(url), str(exception)[:200])

    # --- time limit ------------------------------------------------------------------------

    def _start_clock(self) -> None:
        """Stop the crawl at the site's time limit (each site has its own, so Scrapy's
        process-wide CLOSESPIDER_TIMEOUT does not fit)."""
        from twisted.internet import reactor

        self.timed_out = False
        self._clock = reactor.callLater(self.site.time_limit_seconds, self._time_up)  # type: ignore[attr-defined, arg-type]

    def _time_up(self) -> None:
        self.timed_out = True
        self.logger.error("time limit %s reached; stopping the crawl", self.site.time_limit)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason="time_limit"))  # type: ignore[union-attr]

    def closed(self, reason: str) -> None:
        clock = getattr(self, "_clock", None)
        if clock is not None and clock.active():
            clock.cancel()
        if hasattr(self, "policy"):  # the run got past its setup
            complete = not self.timed_out and not self.page_failures
            stored = self.settings.getbool("NEWSMON_STORE_ENABLED", True)
            self.state.save(self.config.database, with_sources=complete and stored)

    # --- run outcome -----------------------------------------------------------------------

    def run_outcome(self) -> tuple[str, str | None]:
        """``ok``, ``partial`` (some sources or pages failed) or ``error``, with the reason."""
        failures = "; ".join(self.source_failures[:5])
        if getattr(self, "timed_out", False):
            return "error", f"stopped at the time limit ({self.site.time_limit})"
        if not self.sources_ok:
            return "error", f"every discovery source failed: {failures or 'no sources'}"
        if not self.discovered and not self.sources_unchanged:
            return "error", "discovery found no stories on any source (site changed or empty?)"
        if self.source_failures or self.page_failures:
            return "partial", "; ".join(x for x in (failures, self._pages_failed()) if x)
        return "ok", None

    def _pages_failed(self) -> str:
        """The failed story pages for the run's error: how many, and the first few."""
        if not self.page_failures:
            return ""
        shown = self.failed_pages[:MAX_LISTED]
        more = self.page_failures - len(shown)
        listed = ", ".join(shown) + (f" and {more} more" if more and shown else "")
        return f"{self.page_failures} story pages failed" + (f": {listed}" if listed else "")

    def run_counts(self) -> dict[str, int]:
        return {"pages": self.pages, "errors": len(self.source_failures) + self.page_failures}


def allowed_hosts(site: Site) -> list[str]:
    """The host of the site's url and of every source its config names (a feed may live on
    another host); nothing else is ever requested."""
    urls = [site.url, *site.feeds, *site.sitemaps, *site.listings]
    return sorted({h for h in (urlsplit(u).hostname for u in urls) if h})
