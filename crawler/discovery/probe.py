"""`newsmon discover URL`: probe a site and write the `sites:` entry that crawls it.

Adding a site is: discover, paste, `newsmon check`. The probe looks where the generic spider
would (the home page's feed links, robots.txt's sitemaps, the well-known feed and sitemap paths,
the WordPress REST API), fetches a sample of the pages those sources list and of the home page's
links, and keeps the pages that declare themselves articles (JSON-LD article types,
``og:type=article``). From their URLs it infers an ``article_pattern`` that none of the other
pages match. A site with no feed, sitemap or API gets the pages that list those stories
(home, sections) as ``listings``. Every list is written out, even empty, so the generic spider
does not autodiscover again on each crawl.

It is polite like the crawler: robots.txt is obeyed, the configured User-Agent is sent, pages
are fetched one at a time, and the sample is small.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import yaml

from crawler.discovery import parsers as discovery
from crawler.discovery.parsers import FEED, SITEMAP
from crawler.discovery.well_known import NOT_STORIES, WELL_KNOWN, WP_POSTS
from crawler.extract.html import parse_html
from crawler.extract.metadata import ARTICLE_TYPES
from crawler.urls import canonicalize_url, same_site

MAX_BYTES = 8 * 1024 * 1024
LISTING_PAGES = 3  # as NEWSMON_LISTING_PAGES: pages of a listing the spider follows per run
MAX_CHILD_SITEMAPS = 25
TAIL_SAMPLES = 4


class DiscoverError(Exception):
    """The site cannot be probed (home page unreachable, refused by robots.txt...)."""


@dataclass
class Page:
    url: str  # after redirects
    status: int
    body: bytes = b""


@dataclass
class Source:
    """One discovery source found on the site, and the same-site URLs it lists."""

    kind: str
    url: str
    links: list[str] = field(default_factory=list)
    note: str = ""


@dataclass
class Report:
    """Everything the probe found; ``render_entry`` turns it into YAML."""

    url: str
    name: str
    feeds: list[Source] = field(default_factory=list)
    sitemaps: list[Source] = field(default_factory=list)
    wordpress: Source | None = None
    listings: list[Source] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)  # sampled pages that say they are stories
    others: list[str] = field(default_factory=list)  # sampled pages that do not
    signals: Counter[str] = field(default_factory=Counter)
    pattern: str | None = None

    def stories(self, source: Source) -> int:
        """How many of a source's URLs are stories (match the pattern, or are known ones)."""
        if self.pattern:
            return sum(1 for u in source.links if re.search(self.pattern, u))
        return len(source.links)


class Fetcher:
    """Sequential GETs with the crawler's User-Agent, obeying the site's robots.txt."""

    def __init__(self, user_agent: str, timeout: float = 15) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.robots: dict[str, RobotFileParser] = {}

    def get(self, url: str) -> Page:
        """The page at ``url``; status 0 when unreachable or disallowed by robots.txt."""
        if not self._allowed(url):
            return Page(url, 0)
        request = urllib.request.Request(url, headers={"User-Agent": self.user_agent})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                return Page(answer.geturl(), answer.status, answer.read(MAX_BYTES))
        except urllib.error.HTTPError as exc:
            return Page(url, exc.code)
        except (urllib.error.URLError, OSError, ValueError):
            return Page(url, 0)

    def _allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self.robots:
            parser = RobotFileParser()
            if url != origin + "/robots.txt":
                robots = self.get(origin + "/robots.txt")
                lines = robots.body.decode("utf-8", "replace").splitlines()
                parser.parse(lines if robots.status == 200 else [])
            else:
                parser.parse([])
            self.robots[origin] = parser
        return self.robots[origin].can_fetch(self.user_agent, url)


def discover_site(url: str, user_agent: str, samples: int = 12, name: str | None = None) -> Report:
    """Probe the site at ``url``: its sources, whether it is WordPress, which pages are stories."""
    fetch = Fetcher(user_agent)
    home = fetch.get(url)
    if home.status != 200:
        raise DiscoverError(f"{url}: cannot fetch the home page (HTTP {home.status or 'error'})")
    report = Report(url, name or site_name(url))
    home_found = discovery.parse_home(home.body, home.url)
    robots = fetch.get(urljoin(url, "/robots.txt"))
    robots_found = discovery.parse_robots(robots.body, robots.url) if robots.status == 200 else None
    report.feeds = _feeds(fetch, url, home_found.sources)
    report.sitemaps = _sitemaps(fetch, url, robots_found.sources if robots_found else [])
    report.wordpress = _wordpress(fetch, url)
    pages = _classify(fetch, report, _candidates(report, home_found, url), samples)
    report.pattern = infer_pattern(report.articles, [*report.others, home.url])
    if not (report.feeds or report.sitemaps or report.wordpress):
        report.listings = _listings(fetch, report, {home.url: home.body, **pages})
    return report


def site_name(url: str) -> str:
    """A config name from the host: ``https://www.news.example.org/`` -> ``news-example-org``."""
    host = (urlsplit(url).hostname or "site").removeprefix("www.")
    return re.sub(r"[^a-z0-9]+", "-", host.lower()).strip("-") or "site"


def _feeds(fetch: Fetcher, url: str, announced: list[tuple[str, str]]) -> list[Source]:
    candidates = [u for kind, u in announced if kind == FEED]
    candidates += [urljoin(url, p) for kind, p in WELL_KNOWN if kind == FEED]
    found: list[Source] = []
    for candidate in dict.fromkeys(candidates):
        page = fetch.get(candidate)
        links = _parsed_links(discovery.parse_feed, page, url)
        if links is not None and not _duplicate(found, links, page.url):
            found.append(Source(FEED, candidate, links, _feed_format(page.body)))
    return found


def _sitemaps(fetch: Fetcher, url: str, named: list[tuple[str, str]]) -> list[Source]:
    candidates = [u for kind, u in named if kind == SITEMAP]
    candidates += [urljoin(url, p) for kind, p in WELL_KNOWN if kind == SITEMAP]
    found: list[Source] = []
    children: set[str] = set()
    for candidate in dict.fromkeys(candidates):
        if candidate in children:
            continue  # already covered by an index found before it
        source = _sitemap(fetch, candidate, url, children)
        if source is not None and not _duplicate(found, source.links, candidate):
            found.append(source)
    return found


def _sitemap(fetch: Fetcher, sitemap_url: str, url: str, children: set[str]) -> Source | None:
    """A sitemap with every URL it lists, following an index's children (one level)."""
    found = _parsed(discovery.parse_sitemap, fetch.get(sitemap_url))
    if found is None:
        return None
    source = Source(SITEMAP, sitemap_url, _same_site(found.links, url), _sitemap_note(found))
    for child in found.follow[:MAX_CHILD_SITEMAPS]:
        children.add(child)
        child_found = _parsed(discovery.parse_sitemap, fetch.get(child))
        if child_found is not None:
            source.links += _same_site(child_found.links, url)
            source.note = source.note or _sitemap_note(child_found)
    if found.follow:
        source.note = ", ".join(x for x in (f"index of {len(found.follow)}", source.note) if x)
    return source


def _wordpress(fetch: Fetcher, url: str) -> Source | None:
    page = fetch.get(urljoin(url, WP_POSTS))
    links = _parsed_links(discovery.parse_wp_posts, page, url)
    return Source("wp-api", page.url, links, "WordPress REST API") if links else None


def _candidates(report: Report, home: discovery.Found, url: str) -> tuple[list[str], list[str]]:
    """Story candidates: what the machine sources list, then the home page's other links."""
    sources = [*report.feeds, *report.sitemaps, *([report.wordpress] if report.wordpress else [])]
    listed = list(dict.fromkeys(u for s in sources for u in s.links))
    skip = {*listed, canonicalize_url(url)}
    linked = [u for u in _same_site(home.links, url) if u not in skip]
    return listed, [u for u in linked if not NOT_STORIES.search(u)]


def _classify(
    fetch: Fetcher, report: Report, candidates: tuple[list[str], list[str]], samples: int
) -> dict[str, bytes]:
    """Fetch a sample of candidates and sort them into articles and others; returns the
    other pages' bodies (they may be listings)."""
    listed, linked = candidates
    others: dict[str, bytes] = {}
    # The tail of the machine-listed URLs too: sitemap indexes list pages after the posts.
    sample = [*listed[:samples], *listed[samples:][-TAIL_SAMPLES:], *linked[:samples]]
    for url in sample:
        page = fetch.get(url)
        if page.status != 200:
            continue
        signal = article_signal(page.body)
        if signal:
            report.articles.append(canonicalize_url(page.url))
            report.signals[signal] += 1
        else:
            report.others.append(canonicalize_url(page.url))
            others[page.url] = page.body
    return others


def article_signal(body: bytes) -> str | None:
    """How a page says it is a story: "JSON-LD NewsArticle", "og:type=article", or None."""
    tree = parse_html(body)
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() == "application/ld+json":
            for kind in _ld_types(script.text or ""):
                if kind in ARTICLE_TYPES:
                    return f"JSON-LD {kind}"
    for meta in tree.iter("meta"):
        if meta.get("property") == "og:type" and meta.get("content", "").lower() == "article":
            return "og:type=article"
    return None


def _ld_types(text: str) -> list[str]:
    """The @type names of a JSON-LD script, lists and @graph included."""
    try:
        stack = [json.loads(text)]
    except ValueError:
        return []
    types: list[str] = []
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack += item
        elif isinstance(item, dict):
            kind = item.get("@type")
            types += [k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)]
            stack.append(item.get("@graph", []))
    return types


def _listings(fetch: Fetcher, report: Report, pages: dict[str, bytes]) -> list[Source]:
    """Pages whose links lead to stories, with every story on their first pages."""
    found = []
    for url, body in pages.items():
        listing = Source("listing", url)
        for _ in range(LISTING_PAGES):
            parsed = discovery.parse_listing(body, url)
            listing.links += [u for u in _same_site(parsed.links, url) if _is_story(report, u)]
            if not parsed.follow:
                break
            page = fetch.get(parsed.follow[0])
            if page.status != 200:
                break
            url, body = page.url, page.body
        listing.links = list(dict.fromkeys(listing.links))
        if listing.links:
            found.append(listing)
    return found


def _is_story(report: Report, url: str) -> bool:
    return bool(re.search(report.pattern, url)) if report.pattern else url in report.articles


def infer_pattern(articles: list[str], others: list[str]) -> str | None:
    """A regex that every article URL matches and no other URL does, built from the shapes of
    the article paths (segment count, trailing slash; digits and varying segments generalised,
    one alternative per shape); None with fewer than two articles or when it fits another page."""
    paths = list(dict.fromkeys(urlsplit(u).path for u in articles))
    if len(paths) < 2:
        return None
    shapes: dict[tuple[int, bool], list[str]] = {}
    for path in paths:
        shapes.setdefault((path.strip("/").count("/"), path.endswith("/")), []).append(path)
    alternatives = [_shape_pattern(group) for group in shapes.values()]
    body = alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"
    pattern = rf"^https?://[^/]+/{body}$"
    return None if any(re.search(pattern, u) for u in others) else pattern


def _shape_pattern(paths: list[str]) -> str:
    columns = list(zip(*(p.strip("/").split("/") for p in paths), strict=True))
    parts = [_generalise(list(v), last=i == len(columns) - 1) for i, v in enumerate(columns)]
    return "/".join(parts) + ("/" if paths[0].endswith("/") else "")


def _generalise(values: list[str], last: bool) -> str:
    if all(v.isdigit() for v in values):
        lengths = {len(v) for v in values}
        return rf"\d{{{lengths.pop()}}}" if len(lengths) == 1 else r"\d+"
    if len(set(values)) == 1 and not last:
        return re.escape(values[0])
    suffixes = {v.rsplit(".", 1)[1] for v in values if "." in v}
    if last and len(suffixes) == 1 and all("." in v for v in values):
        return r"[^/]+\." + re.escape(suffixes.pop())
    return "[^/]+"


# --- small helpers --------------------------------------------------------------------------


def _parsed(parser: discovery.Parser, page: Page) -> discovery.Found | None:
    if page.status != 200:
        return None
    try:
        return parser(_ungzip(page.body), page.url)
    except (ValueError, OSError):  # not a sitemap or feed (SourceError), a bad or huge gzip
        return None


def _parsed_links(parser: discovery.Parser, page: Page, url: str) -> list[str] | None:
    found = _parsed(parser, page)
    return _same_site(found.links, url) if found is not None and found.links else None


def _same_site(links: Iterable[discovery.Link], url: str) -> list[str]:
    urls = (canonicalize_url(link.url) for link in links)
    return list(dict.fromkeys(u for u in urls if same_site(u, url)))


def _duplicate(found: list[Source], links: list[str], url: str) -> bool:
    """The same document under another URL (/feed/ redirecting to /rss.xml...)."""
    return any(s.url == url or set(s.links) == set(links) for s in found)


def _ungzip(body: bytes) -> bytes:
    return discovery.decompressed(body, 8 * MAX_BYTES)


def _feed_format(body: bytes) -> str:
    head = body.lstrip()[:400]
    if head[:1] in (b"{", b"["):
        return "JSON Feed"
    return "Atom" if b"<feed" in head else "RSS"


def _sitemap_note(found: discovery.Found) -> str:
    news = any("title" in link.hints and "published" in link.hints for link in found.links)
    return "Google News" if news else ""


# --- the YAML entry ---------------------------------------------------------------------------


def render_entry(report: Report, max_age: str = "7d") -> str:
    """The report as comments plus one ``sites:`` list item, ready to paste under ``sites:``."""
    lines = [f"# newsmon discover {report.url}", *_summary(report)]
    lines += ["# Paste under `sites:` in your config, then run `newsmon check`."]
    lines += [
        f"  - name: {_plain(report.name)}",
        "    spider: generic",
        f"    url: {_quote(report.url)}",
        *_list("feeds", report.feeds, report),
        *_list("sitemaps", report.sitemaps, report),
    ]
    if report.listings:
        lines += _list("listings", report.listings, report)
    lines.append(f"    wordpress: {'true' if report.wordpress else 'false'}")
    if report.pattern:
        lines.append(f"    article_pattern: {_quote(report.pattern)}")
    backfill = f"newsmon crawl {report.name} --backfill DAYS"
    lines.append(
        f"    max_age: {max_age}  # older stories are skipped; fetch them with `{backfill}`"
    )
    return "\n".join(lines) + "\n"


def _summary(report: Report) -> list[str]:
    wp = report.wordpress
    lines = [f"# WordPress: {f'yes, REST API lists {report.stories(wp)} stories' if wp else 'no'}"]
    for source in (*report.feeds, *report.sitemaps, *report.listings):
        lines.append(f"# {source.kind} {source.url}: {_count(report, source)}")
    if not (report.feeds or report.sitemaps):
        lines.append("# no feed or sitemap found")
    signals = ", ".join(f"{n} {s}" for s, n in report.signals.most_common()) or "none"
    checked = f"{len(report.articles)} ({signals}); other pages checked: {len(report.others)}"
    lines.append(f"# pages that declare themselves articles: {checked}")
    if report.pattern:
        lines.append("# article_pattern: inferred from those articles' URLs; no other page matches")
    else:
        lines.append("# no article_pattern: the pages' own signals (JSON-LD, og:type) decide")
    return lines


def _list(key: str, sources: list[Source], report: Report) -> list[str]:
    if not sources:
        return [f"    {key}: []"]
    return [f"    {key}:"] + [f"      - {_quote(s.url)}  # {_count(report, s)}" for s in sources]


def _count(report: Report, source: Source) -> str:
    stories = report.stories(source)
    extra = f" of {len(source.links)} URLs" if stories != len(source.links) else ""
    return ", ".join(x for x in (source.note, f"{stories} stories{extra}") if x)


def _plain(value: str) -> str:
    """A name as a plain YAML scalar, quoted when YAML would read it as something else."""
    return value if yaml.safe_load(value) == value else _quote(value)


def _quote(value: str) -> str:
    """A single-quoted YAML scalar: backslashes stay literal (regexes), '' escapes a quote."""
    return "'" + value.replace("'", "''") + "'"
