"""The shared base spider: discovery from every source a site has, and incremental fetching.

A site spider declares its sources and extraction rules as class attributes; this class
combines feeds, sitemaps, listings, site search and the WordPress REST API, deduplicates the
story URLs they list, and fetches only stories that are new or due for a change check. One
broken source costs nothing but a line in the run's error; a site where every source fails,
or where discovery finds no story at all, is a failed run.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import quote, urljoin

import scrapy
from scrapy.http import Response
from scrapy.utils.gz import gunzip
from twisted.python.failure import Failure

from crawler import storage
from crawler.config import Config, Site, load_config, parse_interval
from crawler.items import Story
from crawler.urls import canonicalize_url, same_site
from pipelines.extract import SiteRules
from spiders import discovery
from spiders.search_terms import search_terms

FEED, SITEMAP, LISTING, SEARCH, WP_API = "feed", "sitemap", "listing", "search", "wp-api"


@dataclass(frozen=True)
class Known:
    """What storage knows about a story URL, to decide whether to fetch it again."""

    first_seen: str
    last_checked: str | None
    etag: str | None
    last_modified: str | None


class NewsSpider(scrapy.Spider):
    """Base for every site spider. Paths are resolved against the site's configured ``url``."""

    feeds: ClassVar[tuple[str, ...]] = ()
    sitemaps: ClassVar[tuple[str, ...]] = ()
    listings: ClassVar[tuple[str, ...]] = ()
    search: ClassVar[tuple[str, ...]] = ()  # templates with {words}, percent-encoded
    wp_api: ClassVar[tuple[str, ...]] = ()  # templates; {words} ones run once per watch
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
        self.source_failures: list[str] = []
        self.sources_ok = 0
        self.page_failures = 0
        self.pages = 0
        self.known: dict[str, Known] = {}
        self.run_id = 0

    def _site_from_config(self, name: str | None) -> Site:
        for site in self.config.sites:
            if site.name == name or (name is None and site.spider == self.name):
                return site
        raise ValueError(f"no site in the config uses spider {self.name!r} (give -a site=NAME)")

    # --- discovery -------------------------------------------------------------------------

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.known = self._load_known()
        self._start_clock()
        for request in self.source_requests():
            yield request

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
        seen: set[str] = set()
        for kind, path in sources:
            url = urljoin(self.base_url, path)
            if url not in seen:
                seen.add(url)
                yield self._source_request(kind, url)

    def _source_request(self, kind: str, url: str, depth: int = 0) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_source,
            errback=self.source_failed,
            dont_filter=True,
            meta={"source": kind, "depth": depth},
        )

    def parse_source(self, response: Response) -> Iterable[scrapy.Request]:
        kind, depth = response.meta["source"], response.meta["depth"]
        parser: Callable[..., discovery.Found] = {
            FEED: discovery.parse_feed,
            SITEMAP: discovery.parse_sitemap,
            WP_API: discovery.parse_wp_posts,
        }.get(kind, discovery.parse_listing)
        try:
            body = self._source_body(response)
            found = parser(body, response.url)
        except (discovery.SourceError, OSError, ValueError) as exc:
            self._fail_source(response.url, f"{kind}: {exc}")
            return
        self.sources_ok += 1
        max_items = self.settings.getint("NEWSMON_MAX_SOURCE_ITEMS", 2000)
        for link in found.links[:max_items]:
            request = self.story_request(link.url, link.hints)
            if request is not None:
                yield request
        if depth + 1 < self._max_depth(kind):
            for url in found.follow:
                if same_site(url, self.base_url):
                    yield self._source_request(kind, url, depth + 1)

    def _max_depth(self, kind: str) -> int:
        return 3 if kind == SITEMAP else self.settings.getint("NEWSMON_LISTING_PAGES", 3)

    def _source_body(self, response: Response) -> bytes:
        body = response.body
        if body[:2] == b"\x1f\x8b":  # a .xml.gz sitemap served as a file, not as an encoding
            body = gunzip(body, max_size=self.settings.getint("NEWSMON_SITEMAP_MAXSIZE"))
        return body

    def source_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        self._fail_source(request.url, f"{request.meta.get('source')}: {_reason(failure)}")

    def _fail_source(self, url: str, reason: str) -> None:
        self.logger.warning("discovery source failed: %s (%s)", url, reason)
        self.source_failures.append(f"{url}: {reason}")

    # --- stories ---------------------------------------------------------------------------

    def is_story_url(self, url: str) -> bool:
        """Whether a same-site URL looks like a story (the site's article pattern)."""
        return bool(self.pattern.search(url))

    def story_request(self, url: str, hints: dict[str, str]) -> scrapy.Request | None:
        """A request for a discovered story, or None if it is off-site, not a story, already
        requested in this run, too old, or known and not due for a change check."""
        url = canonicalize_url(url)
        if not same_site(url, self.base_url) or not self.is_story_url(url):
            return None
        self.discovered.add(url)
        if url in self.requested or self._too_old(hints):
            return None
        self.requested.add(url)
        known = self.known.get(url)
        meta: dict[str, Any] = {"hints": hints}
        headers = {}
        if known is not None:
            if not self._due(known, hints):
                return None
            meta["handle_httpstatus_list"] = [304]
            headers = _conditional_headers(known.etag, known.last_modified)
        return scrapy.Request(
            url, callback=self.parse_story, errback=self.story_failed, headers=headers, meta=meta
        )

    def _too_old(self, hints: dict[str, str]) -> bool:
        if not self.site.max_age or "published" not in hints:
            return False
        limit = datetime.now(UTC) - parse_interval(self.site.max_age)
        return _parse_iso(hints["published"]) < limit

    def _due(self, known: Known, hints: dict[str, str]) -> bool:
        """A known story is fetched again when its source says it changed since we last
        looked, or, with no such date, while it is recent enough to still be edited."""
        if "modified" in hints and known.last_checked:
            return _parse_iso(hints["modified"]) > _parse_iso(known.last_checked)
        recent = datetime.now(UTC) - timedelta(days=self.config.recheck_days)
        return _parse_iso(known.first_seen) > recent

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
        self.page_failures += 1
        self.logger.warning("story page failed: %s (%s)", failure.request.url, _reason(failure))  # type: ignore[attr-defined]

    # --- time limit ------------------------------------------------------------------------

    def _start_clock(self) -> None:
        """Stop the crawl at the site's time limit (each site has its own, so Scrapy's
        process-wide CLOSESPIDER_TIMEOUT does not fit)."""
        from twisted.internet import reactor

        self.timed_out = False
        self._clock = reactor.callLater(self.site.time_limit_seconds, self._time_up)  # type: ignore[attr-defined]

    def _time_up(self) -> None:
        self.timed_out = True
        self.logger.error("time limit %s reached; stopping the crawl", self.site.time_limit)
        self.crawler.engine.close_spider(self, "time_limit")  # type: ignore[union-attr]

    def closed(self, reason: str) -> None:
        clock = getattr(self, "_clock", None)
        if clock is not None and clock.active():
            clock.cancel()

    # --- run outcome -----------------------------------------------------------------------

    def run_outcome(self) -> tuple[str, str | None]:
        """``ok``, ``partial`` (some sources or pages failed) or ``error``, with the reason."""
        failures = "; ".join(self.source_failures[:5])
        if getattr(self, "timed_out", False):
            return "error", f"stopped at the time limit ({self.site.time_limit})"
        if not self.sources_ok:
            return "error", f"every discovery source failed: {failures or 'no sources'}"
        if not self.discovered:
            return "error", "discovery found no stories on any source (site changed or empty?)"
        if self.source_failures or self.page_failures:
            pages = f"{self.page_failures} story pages failed" if self.page_failures else ""
            return "partial", "; ".join(x for x in (failures, pages) if x)
        return "ok", None

    def run_counts(self) -> dict[str, int]:
        return {"pages": self.pages, "errors": len(self.source_failures) + self.page_failures}

    def _load_known(self) -> dict[str, Known]:
        db = storage.connect(self.config.database)
        try:
            rows = db.execute(
                "SELECT a.url, a.first_seen, a.last_checked, a.etag, a.last_modified "
                "FROM articles a WHERE a.site = ? UNION ALL "
                "SELECT u.url, a.first_seen, a.last_checked, a.etag, a.last_modified "
                "FROM article_urls u JOIN articles a ON a.id = u.article_id WHERE a.site = ?",
                (self.site.name, self.site.name),
            ).fetchall()
        finally:
            db.close()
        return {r[0]: Known(*r[1:]) for r in rows}


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


def _parse_iso(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _reason(failure: Failure) -> str:
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"HTTP {response.status}"
    return f"{failure.type.__name__}: {failure.getErrorMessage()}"  # type: ignore[union-attr]
