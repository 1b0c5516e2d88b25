"""The shared base spider: discovery from every source a site has, and incremental fetching.

A site spider declares its sources and extraction rules as class attributes; this class
combines feeds, sitemaps, listings, site search and the WordPress REST API (asked with
conditional GET, see ``spiders.sources``), deduplicates the story URLs they list, and fetches
only stories that are new or due for a change check (the policy is in
``crawler.discovery.incremental``, the memory between runs in ``crawler.db.crawl_state``).

Story pages are fetched once discovery is done, newest first (by the date a source gives),
at most ``NEWSMON_MAX_RUN_FETCHES`` a run; the rest are deferred: counted, not remembered, so
the next run's discovery lists them again. The engine is handed ``IN_ENGINE`` story requests at
a time, each with a lower priority than the one before (Scrapy's queues are last in, first out
within a priority), and one more as each ends. Every listed URL's fate is kept in the run's
``Ledger`` (``crawler.crawling.run_record``), whose counts the run record writes. One broken
source costs nothing but a line in the run's error; a site where every source fails, or where
discovery finds no story at all, is a failed run.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, IgnoreRequest
from scrapy.http import Response
from scrapy.utils.defer import deferred_from_coro
from twisted.python.failure import Failure

from crawler.config import Config, Site, load_config, parse_interval
from crawler.crawling import run_record as record
from crawler.crawling.middlewares import KEEP_COMPRESSED
from crawler.crawling.run_record import Accounting, Ledger
from crawler.db.crawl_state import CrawlState
from crawler.discovery.incremental import FETCH, LATER, SKIP, Known, RecheckPolicy, too_old
from crawler.discovery.parsers import FEED, SITEMAP, WP_API
from crawler.extract.article import SiteRules
from crawler.story import KNOWN, LISTED, NEW_STORY_FOUND, PATTERN, TRUSTED, Page, Story
from crawler.timestamps import parse_iso
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
# Story requests in Scrapy's hands at a time: enough to keep every download slot busy, few
# enough that the first fetch starts at once (making thousands of requests first took 0.1 s).
IN_ENGINE = 128


@dataclass
class Wanted:
    """A story to fetch once discovery is done: what sources said of it, whether one of them
    asked for it outright (not only as a re-check that a dated source may make unnecessary),
    and whether a story-only source listed it."""

    hints: dict[str, str]
    now: bool
    listed: bool


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
        self.state = CrawlState(self.site.name)
        self.known: dict[str, Known] = {}
        self.pending: dict[str, Wanted] = {}  # fetched once discovery is done
        self.listed: set[str] = set()  # story URLs story-only sources listed
        self.dated: set[str] = set()  # stories a dated source vouched for
        self.overdue: set[str] = set()  # rule 4
        # Chosen to fetch, newest first, not yet handed to the engine; and how many are.
        self.to_hand: deque[tuple[str, Wanted, Known | None]] = deque()
        self.handed = 0
        self.fetch_order = 0
        self.found_new = False  # NEW_STORY_FOUND sent

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
        self.stats = self.crawler.stats
        self.ledger = Ledger(self.stats)
        self.max_fetches = self.settings.getint("NEWSMON_MAX_RUN_FETCHES", 1000)
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

    @property
    def trust_pattern(self) -> bool:
        """Whether a page matching the article pattern is a story on that alone."""
        return False

    def story_request(
        self, url: str, hints: dict[str, str], source_changed: bool = True, kind: str = ""
    ) -> None:
        """Consider a story URL a source of ``kind`` lists: fetch it once discovery is done, or
        record why not (off-site, known not to be a story, too old, known and not due)."""
        if len(url) > MAX_URL_LENGTH:
            return
        url = canonicalize_url(url)
        listed = kind in (FEED, WP_API) or (kind == SITEMAP and "published" in hints)
        if not same_site(url, self.base_url):
            if listed:  # a story a feed lists on another host; other pages' links are not
                self.ledger.first(url, record.OFF_SITE)
            return
        if url in self.source_urls:
            return
        matches = self.is_story_url(url)
        if listed:
            self._count_listed(url, matches)
        elif not matches:
            return
        if url in self.state.skipped:
            self.ledger.first(url, record.NOT_A_STORY)
            return
        if self.ledger.fate(url) == record.TOO_OLD:
            return
        if too_old(hints, self.max_age, self.now):
            self.pending.pop(url, None)
            self.ledger.settle(url, record.TOO_OLD)
            return
        self._want(url, hints, source_changed, listed)

    def _count_listed(self, url: str, matches: bool) -> None:
        """Stories that story-only sources list, and how many the article pattern misses (a
        site that changed its URLs): the generic sites' drift signal."""
        if url in self.listed:
            return
        self.listed.add(url)
        self.stats.inc_value(record.PREFIX + "listed")
        if not matches:
            self.stats.inc_value(record.PREFIX + "off_pattern")

    def _want(self, url: str, hints: dict[str, str], changed: bool, listed: bool) -> None:
        decision = self._decide(url, self.known.get(url), hints, changed)
        wanted = self.pending.get(url)
        if decision == SKIP:
            if wanted is None:
                self.ledger.settle(url, record.UP_TO_DATE)
            return
        if wanted is None:
            self.pending[url] = Wanted(dict(hints), decision == FETCH, listed)
            self.ledger.settle(url, record.PENDING)
            if url not in self.known:
                self._found_new()
            return
        # Listed again: the first source's hints win, later ones fill in what it lacked.
        wanted.hints = {**hints, **wanted.hints}
        wanted.now = wanted.now or decision == FETCH
        wanted.listed = wanted.listed or listed

    def _found_new(self) -> None:
        """Tell the pipelines, once, that story pages will come (the extraction pool starts
        while discovery goes on, not when the first page arrives)."""
        if not self.found_new and self.max_fetches > 0:
            self.found_new = True
            self.crawler.signals.send_catch_log(signal=NEW_STORY_FOUND)

    def _decide(self, url: str, known: Known | None, hints: dict[str, str], changed: bool) -> str:
        if "modified" in hints:
            self.dated.add(url)
        decision = self.policy.decide(known, hints, changed)
        undated = not {"published", "modified"} & hints.keys()
        if decision == FETCH and known is None and undated and self.max_age:
            return LATER  # a dated source may yet put it past max_age
        return decision

    def _when_idle(self) -> None:
        """Discovery is done: fetch the stories it wants, newest first, up to the run's cap;
        the rest are deferred to later runs (see crawler.discovery.incremental for which
        re-checks wait for this moment)."""
        self.handed = 0  # idle: none is in flight, whether or not each reached a callback
        if self.to_hand:
            self._hand_over()
            raise DontCloseSpider
        wanted = self._to_fetch()
        if not wanted:
            return
        fetched = int(self.stats.get_value(record.urls_key(record.FETCHED)) or 0)
        room = max(self.max_fetches - fetched, 0)
        for _, _, known in wanted:
            self.stats.inc_value(record.PREFIX + ("wanted/due" if known else "wanted/new"))
        for url, _, _ in wanted[room:]:
            self.ledger.settle(url, record.DEFERRED)
        if len(wanted) > room:
            self.logger.warning(
                "%d stories left for later runs (NEWSMON_MAX_RUN_FETCHES %d a run)",
                len(wanted) - room,
                self.max_fetches,
            )
        for url, _, _ in wanted[:room]:
            self.ledger.settle(url, record.FETCHED)
        self.to_hand.extend(wanted[:room])
        self._hand_over()
        if room:
            raise DontCloseSpider

    def _hand_over(self) -> None:
        """Give the engine the next stories to fetch, up to IN_ENGINE in its hands."""
        while self.to_hand and self.handed < IN_ENGINE:
            request = self._fetch(*self.to_hand.popleft())
            self.fetch_order += 1
            request.priority = -self.fetch_order  # newest first: ahead of the ones after it
            self.handed += 1
            self.crawler.engine.crawl(request)  # type: ignore[union-attr]

    def _story_ended(self) -> None:
        self.handed = max(self.handed - 1, 0)
        if self.to_hand:
            self._hand_over()

    def _to_fetch(self) -> list[tuple[str, Wanted, Known | None]]:
        """What to fetch now, newest first: the pending stories (less the re-checks a dated
        source made unnecessary) and the overdue re-checks."""
        pending, self.pending = self.pending, {}
        overdue, self.overdue = self.overdue, set()
        out: dict[str, tuple[str, Wanted, Known | None]] = {}
        for url, wanted in pending.items():
            known = self.known.get(url)
            if not wanted.now and known is not None and url in self.dated:
                self.ledger.settle(url, record.UP_TO_DATE)
                continue
            out[url] = (url, wanted, known)
        for url in sorted(overdue):
            fate = self.ledger.fate(url)
            if url not in out and fate not in (record.FETCHED, record.TOO_OLD):
                out[url] = (url, Wanted({}, True, False), self.known.get(url))
        return sorted(out.values(), key=self._age)

    def _age(self, entry: tuple[str, Wanted, Known | None]) -> tuple[int, float, str]:
        """Sort key, newest first: the date a source gave, else when we first stored it; links
        no source dates (only a listing shows them: menus, static pages) come last; the URL
        breaks ties, so which stories a capped run takes does not depend on which source
        answered first."""
        url, wanted, known = entry
        when = wanted.hints.get("published") or wanted.hints.get("modified")
        when = when or (known.first_seen if known else None)
        try:
            return (0, -parse_iso(when).timestamp(), url) if when else (1, 0.0, url)
        except ValueError:
            return (1, 0.0, url)

    def _fetch(self, url: str, wanted: Wanted, known: Known | None) -> scrapy.Request:
        meta: dict[str, Any] = {
            "hints": wanted.hints,
            "recheck": known is not None,
            "evidence": self._evidence(url, wanted, known),
            KEEP_COMPRESSED: True,  # decompressed by the extraction worker, not the reactor
        }
        headers = {}
        if known is not None:
            meta["handle_httpstatus_list"] = [304]
            headers = conditional_headers(known.etag, known.last_modified)
        # Deduplicated by the ledger already. Scrapy's duplicate filter would also swallow a
        # redirect loop's way back to this URL without a word, losing the page silently;
        # unfiltered, the loop ends at REDIRECT_MAX_TIMES as a recorded failure.
        return scrapy.Request(
            url,
            callback=self.parse_story,
            errback=self.story_failed,
            headers=headers,
            meta=meta,
            dont_filter=True,
        )

    def _evidence(self, url: str, wanted: Wanted, known: Known | None) -> str:
        """How strongly discovery vouches for ``url`` being a story (KNOWN ... PATTERN; "" for
        a speculative link, which must say so itself)."""
        if known is not None:
            return KNOWN
        if self.trust_pattern and self.is_story_url(url):
            return TRUSTED
        if wanted.listed:
            return LISTED
        return "" if self.speculative else PATTERN

    def parse_story(self, response: Response) -> Iterable[Story]:
        self._story_ended()
        self.stats.inc_value(record.PREFIX + "pages")
        hints = dict(response.meta.get("hints", {}))
        story = Story(
            url=response.url,
            site=self.site.name,
            aliases=[response.request.url] if response.request else [],
            hints=hints,
            evidence=response.meta.get("evidence", ""),
            etag=response_header(response, "ETag"),
            last_modified=response_header(response, "Last-Modified"),
        )
        if response.status == 304:
            story.not_modified = True
        else:
            # Raw bytes, not response.text: Scrapy trusts the declared charset even when the
            # bytes contradict it, and mojibake would hide (or fake) watch matches. Still
            # compressed when StoryCompressionMiddleware left them so: the extraction worker
            # decompresses and decodes them (crawler.extract.article.extract_page).
            story.page = Page(
                response.body,
                response_header(response, "Content-Type"),
                response_header(response, "Content-Encoding"),
                response.meta.get("download_maxsize", self.settings.getint("DOWNLOAD_MAXSIZE")),
            )
        yield story

    def story_failed(self, failure: Failure) -> None:
        self._story_ended()
        request = failure.request  # type: ignore[attr-defined]
        status = getattr(getattr(failure.value, "response", None), "status", None)
        if status in GONE and (request.meta.get("recheck") or self.speculative):
            # A story taken down since we stored it, or a guessed link that leads nowhere: not
            # a failure of the run. The guess is remembered so it is not fetched again.
            self.logger.info("no story at %s (HTTP %s)", request.url, status)
            self.stats.inc_value(record.outcome_key(record.GONE))
            if not request.meta.get("recheck"):
                self.state.not_a_story(canonicalize_url(request.url), f"HTTP {status}")
            return
        if failure.check(IgnoreRequest) and str(failure.value).startswith("off-site"):
            # A redirect to another host (logged by SiteHostsMiddleware): not this site's story.
            self.stats.inc_value(record.outcome_key(record.OFF_SITE))
            return
        self.stats.inc_value(record.outcome_key(record.FAILED_FETCH))
        url, reason = first_url(request), failure_reason(failure)  # the URL before redirects
        record.note(self.stats, record.PREFIX + "errors/pages", f"{url} ({reason})")
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
            self.state.save(self.config.database, with_sources=self._complete())

    def _complete(self) -> bool:
        """Whether this run got every story its sources listed: only then is what the sources
        answered remembered. Otherwise the next run's conditional GET would be answered 304 and
        hide the stories this run failed to fetch or deferred."""
        done = Accounting(self.stats.get_stats())
        failed = sum(done.outcome(r) for r in record.FAILURES)
        stored = self.settings.getbool("NEWSMON_STORE_ENABLED", True)
        return stored and not self.timed_out and not failed and not done.deferred


def allowed_hosts(site: Site) -> list[str]:
    """The host of the site's url and of every source its config names (a feed may live on
    another host); nothing else is ever requested."""
    urls = [site.url, *site.feeds, *site.sitemaps, *site.listings]
    return sorted({h for h in (urlsplit(u).hostname for u in urls) if h})
