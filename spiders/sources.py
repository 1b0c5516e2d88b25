"""Discovery sources: the first half of every spider's run.

``SourceSpider`` asks each source a site has (feeds, sitemaps, listings, site search, the
WordPress REST API, and for the generic spider the guesses of autodiscovery) for the stories
it lists, with conditional GET from what ``crawler.db.crawl_state`` remembers: a 304 means
"nothing new here" and the sources it led to last time (child sitemaps, next pages) are asked
in turn.
Each listed URL goes to ``story_request``, which ``spiders.base.NewsSpider`` implements. How
sources answered is counted in the crawl's stats (``crawler.crawling.run_record``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote, urljoin

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from crawler.config import Config, Site
from crawler.crawling import run_record as record
from crawler.db.crawl_state import CrawlState, Source
from crawler.discovery import parsers as discovery
from crawler.discovery.parsers import FEED, LISTING, SEARCH, SITEMAP, WP_API
from crawler.discovery.search_terms import search_terms
from crawler.urls import canonicalize_url, same_site


class SourceSpider(scrapy.Spider):
    """Discovery from a site's sources; subclasses decide what to do with each story URL."""

    feeds: ClassVar[tuple[str, ...]] = ()
    sitemaps: ClassVar[tuple[str, ...]] = ()
    listings: ClassVar[tuple[str, ...]] = ()
    search: ClassVar[tuple[str, ...]] = ()  # templates with {words}, percent-encoded
    wp_api: tuple[str, ...] = ()  # templates; {words} ones run once per watch
    # Set by the subclass before the run starts.
    config: Config
    site: Site
    base_url: str
    state: CrawlState
    now: datetime
    backfill: int
    ledger: record.Ledger

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.source_urls: set[str] = set()  # canonical URLs of this run's discovery sources

    def story_request(
        self, url: str, hints: dict[str, str], source_changed: bool = True, kind: str = ""
    ) -> None:
        """Consider a story URL that a source of ``kind`` lists."""
        raise NotImplementedError

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
        # A backfill must see every listed story, and so must a site with no stored story
        # (a wiped database, or a first crawl that kept nothing).
        if memory is not None and not self.backfill and self.state.known:
            headers = conditional_headers(memory.etag, memory.last_modified)
        return scrapy.Request(
            url,
            callback=self.parse_source,
            errback=self.source_failed,
            dont_filter=True,  # deduplicated above, by canonical URL
            headers=headers,
            meta={
                "source": kind,
                "depth": depth,
                "probe": probe,
                "handle_httpstatus_list": [304],
                **meta,
            },
        )

    def parse_source(self, response: Response) -> Iterable[scrapy.Request]:
        """Story requests for what a source lists and requests for the sources it leads to;
        on a 304, only the latter (as remembered from the last full answer)."""
        memory = self.state.sources.get(first_url(response))
        stats = self.crawler.stats
        if response.status == 304 and memory is not None:
            stats.inc_value(record.PREFIX + "sources/unchanged")
            found, changed, leads = discovery.Found(), False, memory.leads
        else:
            parsed = self._parse_found(response, memory)
            if parsed is None:
                return
            found, changed, leads = parsed
        stats.inc_value(record.PREFIX + "sources/ok")
        # Sources first: a next page or child sitemap is then known not to be a story.
        yield from self._follow(response, leads)
        kind = response.meta["source"]
        for link in self._capped(found.links, response.url):
            self.story_request(link.url, link.hints, changed, kind)
        yield from self.more_sources(response)

    def _capped(self, links: list[discovery.Link], url: str) -> list[discovery.Link]:
        """A source's links up to NEWSMON_MAX_SOURCE_ITEMS (the sitemap protocol's 50,000 URLs
        a file); the rest are counted as skipped over the cap, and the run says so."""
        cap = self.settings.getint("NEWSMON_MAX_SOURCE_ITEMS", 50_000)
        if len(links) > cap:
            self.logger.warning(
                "%s lists %d links; only the first %d are read (NEWSMON_MAX_SOURCE_ITEMS)",
                url,
                len(links),
                cap,
            )
            self.ledger.unexamined(len(links) - cap, record.OVER_CAP)
        return links[:cap]

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
        etag = response_header(response, "ETag")
        modified = response_header(response, "Last-Modified")
        self.state.remember_source(first_url(response), Source(etag, modified, digest, leads))
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
        return discovery.decompressed(
            response.body, self.settings.getint("NEWSMON_SITEMAP_MAXSIZE")
        )

    def source_failed(self, failure: Failure) -> None:
        """A source that could not be fetched (or a probe that found nothing)."""
        request = failure.request  # type: ignore[attr-defined]
        self._fail_source(request, f"{request.meta.get('source')}: {failure_reason(failure)}")

    def _fail_source(self, answer: Response | scrapy.Request, reason: str) -> None:
        if answer.meta.get("probe"):
            # Autodiscovery guesses; a guess that finds nothing is remembered, not reported.
            self.logger.debug("no source at %s (%s)", answer.url, reason)
            self.state.source_missing(first_url(answer))
            return
        self.logger.warning("discovery source failed: %s (%s)", answer.url, reason)
        self.crawler.stats.inc_value(record.PREFIX + "sources/failed")
        record.note(self.crawler.stats, record.PREFIX + "errors/sources", f"{answer.url}: {reason}")


def first_url(answer: Response | scrapy.Request) -> str:
    """The URL a source was asked for, before redirects: its state is kept under it, as the
    next run asks for that URL again."""
    return str(answer.meta.get("redirect_urls", [answer.url])[0])


def conditional_headers(etag: str | None, last_modified: str | None) -> dict[str, str]:
    """If-None-Match / If-Modified-Since for the validators we have."""
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    return headers


def response_header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


# ResponseFailed-style errors quote their causes as Failure reprs.
_WRAPPED_FAILURE = re.compile(r"<twisted\.python\.failure\.Failure (?:[\w.]+\.)?(\w+): ([^>]*)>")


def failure_reason(failure: Failure) -> str:
    """A short, one-line reason for a failed request, for the log and the run's error: the
    HTTP status, or the exception without the URL (known already) and Twisted's wrapping."""
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    message = failure.getErrorMessage()
    request = getattr(failure, "request", None)
    if request is not None:
        message = message.replace(request.url, "the page")
    message = _WRAPPED_FAILURE.sub(r"\1: \2", message).strip("[] ")
    return f"{failure.type.__name__}: {' '.join(message.split())[:300]}"  # type: ignore[union-attr]
