"""The shared base spider: discovery from every source a site has, and incremental fetching.

A site spider declares its sources and extraction rules as class attributes; this class
combines feeds, sitemaps, listings, site search and the WordPress REST API, deduplicates the
story URLs they list, and fetches only stories that are new or due for a change check (the
policy is in ``spiders.incremental``, the memory between runs in ``spiders.state``). Sources
are fetched with conditional GET. One broken source costs nothing but a line in the run's
error; a site where every source fails, or where discovery finds no story at all, is a failed
run.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urljoin

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Response
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure

from crawler.config import Config, Site, load_config, parse_interval
from crawler.items import Story
from crawler.urls import canonicalize_url, same_site
from pipelines.extract import SiteRules
from spiders import discovery
from spiders.discovery import FEED, LISTING, SEARCH, SITEMAP, WP_API
from spiders.incremental import FETCH, LATER, Known, RecheckPolicy, too_old
from spiders.search_terms import search_terms
from spiders.state import CrawlState, Source

__all__ = ["FEED", "LISTING", "SEARCH", "SITEMAP", "WP_API", "Known", "NewsSpider"]
GONE = (404, 410)


class NewsSpider(scrapy.Spider):
    """Base for every site spider. Paths are resolved against the site's configured ``url``."""

    feeds: ClassVar[tuple[str, ...]] = ()
    sitemaps: ClassVar[tuple[str, ...]] = ()
    listings: ClassVar[tuple[str, ...]] = ()
    search: ClassVar[tuple[str, ...]] = ()  # templates with {words}, percent-encoded
    wp_api: tuple[str, ...] = ()  # templates; {words} ones run once per watch
    article_pattern: ClassVar[str] = r"."
    rules: ClassVar[SiteRules] = SiteRules()

    def __init__(
        self, site: Site | str | None = None, config: Config | str | None = None, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self.config = config if isinstance(config, Config) else load_config(config)
        self.site = site if isinstance(site, Site) else self._site_from_config(site)
        self.base_url = self.site.url
        self.pattern = re.compile(self.site.article_pattern or self.article_pattern)
        self.requested: set[str] = set()
        self.discovered: set[str] = set()
        self.source_urls: set[str] = set()  # canonical URLs of this run's discovery sources
        self.source_failures: list[str] = []
        self.sources_ok = self.sources_unchanged = 0
        self.page_failures = 0
        self.pages = 0
        self.state = CrawlState(self.site.name)
        self.known: dict[str, Known] = {}
        self.later: dict[str, dict[str, str]] = {}  # rule 3: re-check once discovery is done
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
        now = datetime.now(UTC)
        self.state = CrawlState.load(self.config.database, self.site.name)
        self.known = self.state.known
        every = parse_interval(self.site.recheck)
        self.policy = RecheckPolicy(now, timedelta(days=self.config.recheck_days), every)
        self.overdue = {url for url, known in self.known.items() if self.policy.overdue(known)}
        self.backfill = self.settings.getint("NEWSMON_BACKFILL_DAYS", 0)
        self.max_age = parse_interval(self.site.max_age) if self.site.max_age else None
        if self.backfill:  # `newsmon crawl SITE --backfill DAYS` overrides max_age for one run
            self.max_age = timedelta(days=self.backfill)
        self.crawler.signals.connect(self._recheck_when_idle, signal=signals.spider_idle)
        self.crawler.signals.connect(self._item_dropped, signal=signals.item_dropped)
        self._start_clock()

    # --- discovery -------------------------------------------------------------------------

    def source_requests(self) -> Iterable[scrapy.Request]:
        """One request per discovery source, with conditional headers where we have them."""
        words = search_terms(w.query for w in self.config.watches)
        sources: list[tuple[str, str]] = []
        sources += [(FEED, p) for p in (*self.feeds, *self.site.feeds)]
        sources += [(SITEMAP, p) for p in (*self.sitemaps, *self.site.sitemaps)]
        sources += [(LISTING, p) for p in (*self.listings, *self.site.listings)]
        sources += [(SEARCH, t.format(words=quote(w))) for t in self.search for w in words]
        for template in self.wp_api:
            expanded = [template.format(words=quote(w)) for w in words]
            sources += [(WP_API, p) for p in (expanded if "{words}" in template else [template])]
        for kind, path in sources:
            request = self.source_request(kind, path)
            if request is not None:
                yield request

    def source_request(
        self, kind: str, path: str, depth: int = 0, probe: bool = False, **meta: Any
    ) -> scrapy.Request | None:
        """A request for a discovery source, or None if this run already asked for it.

        A ``probe`` (autodiscovery guessing at a source) may fail silently, and one that found
        nothing recently is not asked again."""
        url = urljoin(self.base_url, path)
        memory = self.state.sources.get(url)
        seen = canonicalize_url(url) in self.source_urls
        if seen or (probe and memory and memory.missing_recently(self.now)):
            return None
        self.source_urls.add(canonicalize_url(url))
        headers = {}
        if memory is not None and not self.backfill:  # a backfill must see every listed story
            headers = _conditional_headers(memory.etag, memory.last_modified)
        return scrapy.Request(
            url,
            callback=self.parse_source,
            errback=self.source_failed,
            dont_filter=True,
            headers=headers,
            meta={
                "source": kind,
                "depth": depth,
                "probe": probe,
                "handle_httpstatus_list": [304],
                **meta,
            },
        )

    @property
    def now(self) -> datetime:
        return self.policy.now

    def parse_source(self, response: Response) -> Iterable[scrapy.Request]:
        memory = self.state.sources.get(_first_url(response))
        if response.status == 304 and memory is not None:
            self.sources_unchanged += 1
            found, changed, leads = discovery.Found(), False, memory.leads
        else:
            parsed = self._parse_found(response, memory)
            if parsed is None:
                return
            found, changed, leads = parsed
        self.sources_ok += 1
        # Sources first: a next page or child sitemap is then known not to be a story.
        yield from self._follow(response, leads)
        max_items = self.settings.getint("NEWSMON_MAX_SOURCE_ITEMS", 2000)
        for link in found.links[:max_items]:
            request = self.story_request(link.url, link.hints, changed)
            if request is not None:
                yield request
        yield from self.more_sources(response)

    def _parse_found(
        self, response: Response, memory: Source | None
    ) -> tuple[discovery.Found, bool, list[tuple[str, str]]] | None:
        """What a source lists, whether its document changed since the last run, and the
        sources it leads to; None (and a recorded failure) when it cannot be parsed."""
        kind = response.meta["source"]
        try:
            body = self._source_body(response)
            found = discovery.parser_for(kind)(body, response.url)
        except (discovery.SourceError, OSError, ValueError) as exc:
            self._fail_source(response, f"{kind}: {exc}")
            return None
        digest = hashlib.blake2b(body, digest_size=16).hexdigest()
        leads = [(kind, url) for url in found.follow] + found.sources
        etag, modified = _header(response, "ETag"), _header(response, "Last-Modified")
        self.state.remember_source(_first_url(response), Source(etag, modified, digest, leads))
        return found, memory is None or memory.digest != digest, leads

    def _follow(self, response: Response, leads: list[tuple[str, str]]) -> Iterable[scrapy.Request]:
        """Requests for the sources a source led to: more of the same kind (child sitemaps,
        next pages, up to a depth) and other kinds (a home page's feeds), which are probes."""
        kind, depth, probe = (response.meta[k] for k in ("source", "depth", "probe"))
        for lead_kind, url in leads:
            if not same_site(url, self.base_url):
                continue
            if lead_kind != kind:
                request = self.source_request(lead_kind, url, probe=True)
            elif depth + 1 < self._max_depth(kind):
                request = self.source_request(kind, url, depth + 1, probe)
            else:
                continue
            if request is not None:
                yield request

    def more_sources(self, response: Response) -> Iterable[scrapy.Request]:
        """Sources to add once ``response``'s source answered (200 or 304); a hook."""
        return ()

    def _max_depth(self, kind: str) -> int:
        if kind == discovery.SITEMAP:
            return 3
        pages = "NEWSMON_BACKFILL_PAGES" if self.backfill else "NEWSMON_LISTING_PAGES"
        return self.settings.getint(pages, 3)

    def _source_body(self, response: Response) -> bytes:
        body = response.body
        if body[:2] == b"\x1f\x8b":  # a .xml.gz sitemap served as a file, not as an encoding
            body = gunzip(body, max_size=self.settings.getint("NEWSMON_SITEMAP_MAXSIZE"))
        return body

    def source_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self._fail_source(request, f"{request.meta.get('source')}: {_reason(failure)}")

    def _fail_source(self, answer: Response | scrapy.Request, reason: str) -> None:
        if answer.meta.get("probe"):
            # Autodiscovery guesses; a guess that finds nothing is remembered, not reported.
            self.logger.debug("no source at %s (%s)", answer.url, reason)
            self.state.source_missing(_first_url(answer))
            return
        self.logger.warning("discovery source failed: %s (%s)", answer.url, reason)
        self.source_failures.append(f"{answer.url}: {reason}")

    # --- stories ---------------------------------------------------------------------------

    def is_story_url(self, url: str) -> bool:
        """Whether a same-site URL looks like a story (the site's article pattern)."""
        return bool(self.pattern.search(url))

    def story_request(
        self, url: str, hints: dict[str, str], source_changed: bool = True
    ) -> scrapy.Request | None:
        """A request for a discovered story, or None if it is off-site, not a story, already
        requested in this run, too old, or known and not due for a change check now."""
        url = canonicalize_url(url)
        if not same_site(url, self.base_url) or not self.is_story_url(url):
            return None
        if url in self.state.skipped or url in self.source_urls:
            return None
        self.discovered.add(url)
        if url in self.requested or too_old(hints, self.max_age, self.now):
            return None
        known = self.known.get(url)
        if "modified" in hints:
            self.dated.add(url)
        decision = self.policy.decide(known, hints, source_changed)
        if decision == LATER:
            self.later.setdefault(url, hints)
        return self._fetch(url, hints, known) if decision == FETCH else None

    def _fetch(self, url: str, hints: dict[str, str], known: Known | None) -> scrapy.Request:
        self.requested.add(url)
        meta: dict[str, Any] = {"hints": hints, "recheck": known is not None}
        headers = {}
        if known is not None:
            meta["handle_httpstatus_list"] = [304]
            headers = _conditional_headers(known.etag, known.last_modified)
        return scrapy.Request(
            url, callback=self.parse_story, errback=self.story_failed, headers=headers, meta=meta
        )

    def _recheck_when_idle(self) -> None:
        """Discovery is done: issue the re-checks of rules 3 and 4 (see spiders.incremental)
        that no dated source made unnecessary."""
        later, self.later = self.later, {}
        urls = [u for u in later if u not in self.dated] + sorted(self.overdue)
        self.overdue = set()
        requests = [
            self._fetch(url, later.get(url, {}), self.known[url])
            for url in dict.fromkeys(urls)
            if url not in self.requested and url in self.known
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
            etag=_header(response, "ETag"),
            last_modified=_header(response, "Last-Modified"),
        )
        if response.status == 304:
            story.not_modified = True
        else:
            story.html = response.text
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
        self.logger.warning("story page failed: %s (%s)", request.url, _reason(failure))

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
        self.crawler.engine.close_spider(self, "time_limit")  # type: ignore[union-attr]

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
            pages = f"{self.page_failures} story pages failed" if self.page_failures else ""
            return "partial", "; ".join(x for x in (failures, pages) if x)
        return "ok", None

    def run_counts(self) -> dict[str, int]:
        return {"pages": self.pages, "errors": len(self.source_failures) + self.page_failures}


def _first_url(answer: Response | scrapy.Request) -> str:
    """The URL a source was asked for, before redirects: its state is kept under it, as the
    next run asks for that URL again."""
    return str(answer.meta.get("redirect_urls", [answer.url])[0])


def _conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _reason(failure: Failure) -> str:
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"  # type: ignore[union-attr]
