"""A big synthetic replica for throughput benchmarks: thousands of WordPress-style stories.

`bulk(count, seed)` builds an EQMint-flavoured WordPress site (same markup, endpoints and
Yoast SEO tags as `replica.eqmint_site`, so the `eqmint` spider's selectors fit it) whose
stories are generated deterministically from the seed: pseudo-English prose of 3-25 KB,
a few stories mentioning the seed watches' topics, one in fifty a syndicated rewrite of an
earlier story. Pages carry the bloat real news sites ship around a story (inline theme CSS
and scripts, a mega menu, reader comments, related and popular-post rails, a link-heavy
footer), so a story page weighs 40-170 KB, like a real one.

The sitemaps are split as Yoast and WordPress core split them (1,000 and 2,000 URLs per
file), so a crawler sees every story through the sitemap index.

    with BulkServer(bulk(3000)) as srv:     # pre-rendered, gzip-ready, keep-alive
        urlopen(srv.base_url + "post-sitemap.xml")

Pages are rendered once and kept (the site is not edited during a benchmark); `BulkServer`
serves those bytes from an asyncio loop in a thread of its own, because the stdlib
`ReplicaServer` spends more CPU per request (header parsing, gzip on every response) than the
crawler under test, which would measure the server instead of the crawler.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import math
import random
import re
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from types import TracebackType
from urllib.parse import quote_plus

from replica import eqmint_html as tpl
from replica.base import (
    Heading,
    Request,
    Response,
    Story,
    page_number,
    page_of,
    search_terms,
    slugify,
)
from replica.eqmint_api import plain_content
from replica.eqmint_site import FIRST_POST_ID, PAGE_SIZE, EqmintSite
from replica.render import esc, sitemap_index, urlset
from replica.wire import compressible, etag_of, http_date

DEFAULT_SEED = 20251103
YOAST_PER_SITEMAP = 1000
CORE_PER_SITEMAP = 2000
RELATED_SIZE = 6
SECTIONS = ("Finance News", "Business", "Markets", "World", "Technology", "Energy", "Politics")
AUTHORS = (
    "Aditya Pareek", "Meera Iyer", "Rohan Kapoor", "Sara Thomas", "Vikram Rao",
    "Ananya Das", "Kabir Mehta", "Nisha Menon", "Arjun Nair", "Priya Sethi",
)  # fmt: skip
_COMMON = (  # noqa: SIM905 - prose reads better than 150 quoted words
    "the of and to in a is that for on with as was by at from it said has be are have will "
    "its an which this after more than new but were had also their been over about year "
    "government market company percent who would two first could into last since when up "
    "out some other people may all while week minister country economic growth prices plan "
    "under billion million officials report data state trade according because between "
    "during three years only most such where those against before global policy investors "
    "shares demand supply sector industry bank central rate rates interest inflation "
    "exports imports deal talks agreement analysts expected record quarter profit revenue "
    "production energy oil gas power climate security defence border election parliament "
    "court ruling support public private foreign domestic regional national international "
    "leaders meeting summit president chief executive board plans announced statement"
).split()
_NAMES = (  # noqa: SIM905
    "Mumbai Delhi Tokyo Beijing Washington London Brussels Berlin Paris Baku Moscow Sydney "
    "Reuters Sensex Nifty Tata Reliance Infosys Adani Toyota Sony Siemens Airbus Boeing"
).split()
_TOPICS = (
    "Rare earths supply remains the main worry for carmakers across the region.",
    "Prime Minister Sanae Takaichi said the government would act quickly on the package.",
    "Officials described the rare earth magnets agreement as a turning point.",
)
# Zipf-like weights: the head of the common words far more often than the tail.
_COMMON_WEIGHTS = [1 / (rank + 2) for rank in range(len(_COMMON))]
_NOISE_WORDS = 180
_POOL_SENTENCES = 20_000  # distinct rare words, so no two stories share every shingle
_CSS_RULES = 260  # rules in the inline theme stylesheet (~14 KB)


@dataclass(frozen=True)
class _Served:
    """A response ready for the wire; text bodies are kept gzipped only (half the memory)."""

    status: int
    head: bytes  # status line and headers without Content-Length / Content-Encoding
    body: bytes
    gzipped: bool


class _Prose:
    """Deterministic pseudo-English: a site vocabulary and a pool of sentences drawn from it.

    Story bodies mix fresh sentences with pooled ones (as news copy reuses stock phrases);
    the pool keeps generating 3,000 stories to a few seconds.
    """

    def __init__(self, seed: int) -> None:
        rng = random.Random(f"{seed}:vocabulary")
        noise = [f"{w}{rng.randint(10, 99)}" for w in rng.sample(_COMMON, 60)]
        noise += ["".join(rng.choices("bcdfgklmnprstvz", k=3)) + "ia" for _ in range(_NOISE_WORDS)]
        self.words = [*_COMMON, *_NAMES, *noise]
        self.weights = list(
            accumulate([*_COMMON_WEIGHTS, *[0.3] * len(_NAMES), *[0.1] * len(noise)])
        )
        self.pool = [self.sentence(rng) for _ in range(_POOL_SENTENCES)]

    def sentence(self, rng: random.Random) -> str:
        words = rng.choices(self.words, cum_weights=self.weights, k=rng.randint(8, 26))
        if rng.random() < 0.3:
            words.insert(rng.randint(1, len(words) - 1), f"{rng.randint(2, 98)}%")
        return words[0].capitalize() + " " + " ".join(words[1:]) + rng.choice(".....?")

    def paragraph(self, rng: random.Random, fresh: bool = False, sentences: int = 0) -> str:
        count = sentences or rng.randint(2, 6)
        if fresh:
            return " ".join(self.sentence(rng) for _ in range(count))
        return " ".join(rng.choices(self.pool, k=count))

    def headline(self, rng: random.Random) -> str:
        words = rng.choices(self.words, cum_weights=self.weights, k=rng.randint(6, 12))
        return words[0].capitalize() + " " + " ".join(words[1:])

    def tags(self, rng: random.Random) -> list[str]:
        return rng.choices(self.words, cum_weights=self.weights, k=rng.randint(1, 5))


def generate_stories(count: int, seed: int = DEFAULT_SEED) -> list[Story]:
    """``count`` stories, each a function of (seed, index) only: the first N of a bigger
    site are the same N stories."""
    prose = _Prose(seed)
    stories: list[Story] = []
    for index in range(count):
        stories.append(_story(prose, random.Random(f"{seed}:{index}"), index, stories))
    return stories


def _story(prose: _Prose, rng: random.Random, index: int, earlier: list[Story]) -> Story:
    newest = datetime(2025, 11, 3, 18, 0, tzinfo=tpl.IST)
    paragraphs = [prose.paragraph(rng, fresh=True) for _ in range(2)]
    paragraphs += [prose.paragraph(rng) for _ in range(rng.randint(2, 22))]
    if index % 37 == 5:
        paragraphs.insert(rng.randint(0, len(paragraphs)), rng.choice(_TOPICS))
    if rng.random() < 0.3:
        paragraphs.insert(rng.randint(1, len(paragraphs)), Heading(prose.headline(rng), 2))
    if index % 50 == 49 and earlier:
        # A syndicated rewrite: an earlier story with another lede and a credit line.
        original = earlier[rng.randrange(len(earlier))]
        paragraphs = [prose.paragraph(rng, True), *original.paragraphs[1:], "This story first ran"]
    title = f"{prose.headline(rng)} ({index + 1})"
    return Story(
        slug=f"{slugify(title)[:70].strip('-')}-{index + 1}",
        title=title,
        author=rng.choice(AUTHORS),
        published=newest - timedelta(minutes=47 * index + rng.randint(0, 40)),
        section=rng.choice(SECTIONS),
        paragraphs=paragraphs,
        tags=prose.tags(rng),
        comments=[
            (rng.choice(AUTHORS), prose.paragraph(rng, sentences=rng.randint(1, 3)))
            for _ in range(int(rng.random() ** 2 * 180))
        ],
    )


class BulkSite(EqmintSite):
    """The EQMint replica's WordPress, with many generated stories and real-world page bloat."""

    name = "bulk"
    routes = [
        (re.compile(r"/post-sitemap(\d*)\.xml"), "_yoast_sitemap"),
        (re.compile(r"/wp-sitemap-posts-post-(\d+)\.xml"), "_core_sitemap"),
        *EqmintSite.routes,
    ]

    def __init__(
        self, stories: Sequence[Story], seed: int = DEFAULT_SEED, cache: bool = False
    ) -> None:
        self._by_slug = {s.slug: s for s in stories}
        self._order: dict[str, int] = {}
        self._haystacks: dict[str, str] = {}
        self._next_id = FIRST_POST_ID
        super().__init__(stories)
        rng = random.Random(f"{seed}:chrome")
        self.css = _stylesheet(rng)
        self.script = _script(rng)
        self.menu = _mega_menu(rng)
        self.footer = _footer(rng)
        self.cache = cache
        self._cache: dict[tuple[str, str], Response] = {}
        # Sitemaps list stories newest first, as Yoast does; some sites list them oldest first.
        self.sitemap_oldest_first = False

    # -- faster lookups than the small replicas need ---------------------------------------------

    def find(self, slug: str) -> Story | None:
        """The story with this slug, or None (a dict lookup: the site has thousands)."""
        return self._by_slug.get(slug)

    def story(self, slug: str) -> Story:
        """The story with this slug; KeyError if there is none."""
        return self._by_slug[slug]

    def add_story(self, story: Story) -> Story:
        """Publish a story (see `ReplicaSite.add_story`)."""
        with self._lock:
            added = super().add_story(story)  # checks the slug is new, through `find`
            self._by_slug[story.slug] = added
            return added

    def remove_story(self, slug: str) -> Story:
        """Unpublish a story (see `ReplicaSite.remove_story`)."""
        with self._lock:
            story = super().remove_story(slug)
            del self._by_slug[slug]
            return story

    def _assign_id(self, story: Story) -> None:
        self.post_ids[story.slug] = self._next_id
        self._next_id += 17

    def _related(self, story: Story) -> list[Story]:
        # The next stories in publication order: the base class scans every story per page.
        if not self._order:
            self._order = {s.slug: i for i, s in enumerate(self.stories)}
        at = self._order[story.slug]
        return self.stories[at + 1 : at + 1 + RELATED_SIZE]

    # -- with `cache`, pages are rendered once: the site does not change during a benchmark ------

    def handle(self, target: str, origin: str) -> Response:
        """Answer a GET for `target`, from the cache when it was rendered before."""
        if not self.cache:
            return super().handle(target, origin)
        key = (target, origin)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = super().handle(target, origin)
        return cached

    def _themed(self) -> None:
        self._cache.clear()

    def _touch(self, when: datetime) -> None:
        super()._touch(when)
        self._cache.clear()
        self._order.clear()
        self._haystacks.clear()

    # -- story pages with the bloat of a real theme ------------------------------------------------

    def _single(self, req: Request, slug: str) -> Response | None:
        story = self.find(slug)
        if story is None:
            return self._static_page(req, slug)
        url = self.link(req, story)
        post_id = self.post_ids[slug]
        words = len(plain_content(story, req.origin).split())
        head = tpl.head_tags(story, url, tpl.graph(story, url, req.origin, words))
        related = [(self.link(req, s), s.title) for s in self._related(story)]
        main = "\n".join(
            [
                tpl.single(story, post_id, req.origin, self.theme),
                _share_bar(url),
                tpl.comments(story, req.origin),
                tpl.related(related),
                _cards("More from " + story.section, related, req.origin),
            ]
        )
        body = f"post-template-default single single-post postid-{post_id} single-format-standard"
        markup = self._page(req, f"{story.title} - {tpl.SITE}", body, head, main)
        return Response(markup.encode("utf-8"), last_modified=story.updated)

    def _page(self, req: Request, title: str, body_class: str, head: str, main: str) -> str:
        sidebar = self._recent(req) + _cards(
            "Popular", [(self.link(req, s), s.title) for s in self.stories[5:15]], req.origin
        )
        markup = tpl.page(req.origin, title, body_class, head, main, sidebar, self.theme)
        markup = markup.replace(
            "</head>",
            f"<style id='theme-inline-css'>{self.css}</style>\n"
            f"<script id='theme-js'>{self.script}</script>\n</head>",
            1,
        )
        markup = markup.replace("</header>\n<div id=\"content\"", f"{self.menu}</header>\n"
                                "<div id=\"content\"", 1)  # fmt: skip
        return markup.replace('<footer id="colophon"', f'{self.footer}<footer id="colophon"', 1)

    def _home(self, req: Request, number: str = "1") -> Response | None:
        if "s" in req.query:
            return self._search_results(req, req.param("s"), page_number(number))
        return super()._home(req, number)

    def _search(self, origin: str, words: str) -> list[Story]:
        """WordPress search (`eqmint_api.matches`) over haystacks kept between searches: the
        small replicas rebuild each story's text per search, seconds for thousands."""
        terms = search_terms(words)
        if not self._haystacks:
            self._haystacks = {
                s.slug: f"{s.title}\n{plain_content(s, origin)}".lower() for s in self.stories
            }
        found = [s for s in self.stories if all(t in self._haystacks[s.slug] for t in terms)]
        return found if terms else []

    def _rest_filter(self, req: Request) -> list[Story] | None:
        if "search" not in req.query:
            return super()._rest_filter(req)
        hits = {s.slug for s in self._search(req.origin, req.param("search"))}
        query = {k: v for k, v in req.query.items() if k != "search"}
        chosen = super()._rest_filter(Request(req.path, query, req.origin))
        return None if chosen is None else [s for s in chosen if s.slug in hits]

    def _search_results(self, req: Request, words: str, page: int | None) -> Response | None:
        # WordPress shows ten results a page (/page/2/?s=...); the small replicas show every
        # hit on one page, which here would be megabytes.
        if page is None:
            return None
        hits = self._search(req.origin, words)
        shown, more = page_of(hits, page, PAGE_SIZE)
        if not shown:
            return None if page != 1 else super()._home(req)  # its "Nothing Found" page
        query = quote_plus(words)
        main = "\n".join(self._summary(req, s) for s in shown)
        main += tpl.pagination(f"{req.origin}/page/{page + 1}/?s={query}" if more else None)
        title = f"You searched for {words} - {tpl.SITE}"
        markup = tpl.page(
            req.origin, title, "search search-results", "", main, self._recent(req), self.theme
        )
        return Response(markup.encode("utf-8"), last_modified=self.updated)

    # -- sitemaps split like Yoast's (1,000 per file) and WordPress core's (2,000) ----------------

    def _sitemap_index(self, req: Request) -> Response:
        files = max(1, math.ceil(len(self.stories) / YOAST_PER_SITEMAP))
        entries: list[tuple[str, datetime | None]] = [
            (f"{req.origin}/post-sitemap{n if n > 1 else ''}.xml", self.updated)
            for n in range(1, files + 1)
        ]
        entries.append((f"{req.origin}/page-sitemap.xml", self._pages_modified()))
        return sitemap_index(entries, self.updated)

    def _yoast_sitemap(self, req: Request, number: str) -> Response | None:
        return self._sitemap_page(req, int(number or "1"), YOAST_PER_SITEMAP)

    def _wp_sitemap(self, req: Request) -> Response:
        files = max(1, math.ceil(len(self.stories) / CORE_PER_SITEMAP))
        entries: list[tuple[str, datetime | None]] = [
            (f"{req.origin}/wp-sitemap-posts-post-{n}.xml", None) for n in range(1, files + 1)
        ]
        return sitemap_index(entries, self.updated)

    def _core_sitemap(self, req: Request, number: str) -> Response | None:
        return self._sitemap_page(req, int(number), CORE_PER_SITEMAP)

    def _sitemap_page(self, req: Request, number: int, size: int) -> Response | None:
        ordered = self.stories[::-1] if self.sitemap_oldest_first else self.stories
        chosen = ordered[(number - 1) * size : number * size]
        if number < 1 or not chosen:
            return None
        return urlset([(self.link(req, s), s.updated) for s in chosen], self.updated)


def bulk(count: int = 3000, seed: int = DEFAULT_SEED, cache: bool = False) -> BulkSite:
    """A fresh bulk replica of ``count`` generated stories; ``cache`` keeps rendered pages
    (for `ReplicaServer`, which renders on every request; `BulkServer` keeps its own)."""
    return BulkSite(generate_stories(count, seed), seed, cache)


# --- page bloat ---------------------------------------------------------------------------------


def _stylesheet(rng: random.Random) -> str:
    props = ("margin", "padding", "color", "font-size", "line-height", "border", "display")
    rules = []
    for i in range(_CSS_RULES):
        name = f".td-{rng.choice(_COMMON)}-{i}"
        body = ";".join(f"{rng.choice(props)}:{rng.randint(0, 40)}px" for _ in range(3))
        rules.append(f"{name}{{{body}}}")
    return "".join(rules)


def _script(rng: random.Random) -> str:
    config = ",".join(f'"{rng.choice(_COMMON)}_{i}":{rng.randint(0, 9999)}' for i in range(250))
    return f"var tdConfig={{{config}}};window.tdLoaded=function(){{return tdConfig}};"


def _mega_menu(rng: random.Random) -> str:
    columns = []
    for section in SECTIONS:
        links = "".join(
            f'<li class="menu-item"><a href="/category/{slugify(section)}/{rng.choice(_COMMON)}/">'
            f"{esc(rng.choice(_COMMON).capitalize())} {esc(rng.choice(_COMMON))}</a></li>"
            for _ in range(10)
        )
        columns.append(
            f'<li class="menu-item mega"><a href="/category/{slugify(section)}/">{esc(section)}'
            f'</a><ul class="sub-menu">{links}</ul></li>'
        )
    return f'<nav class="td-mega-menu"><ul class="menu">{"".join(columns)}</ul></nav>\n'


def _footer(rng: random.Random) -> str:
    blocks = []
    for title in ("Company", "Markets", "Sections", "Follow us", "Newsletters"):
        links = "".join(
            f'<li><a href="/{rng.choice(_COMMON)}/">{esc(rng.choice(_COMMON))}</a></li>'
            for _ in range(12)
        )
        blocks.append(f'<div class="footer-col"><h4>{title}</h4><ul>{links}</ul></div>')
    return f'<div class="td-footer-wrap">{"".join(blocks)}</div>\n'


def _share_bar(url: str) -> str:
    return (
        '<div class="sharedaddy"><h3 class="sd-title">Share this:</h3><ul>'
        + "".join(
            f'<li><a class="share-{n}" href="https://{n}.example/share?u={url}">{n}</a></li>'
            for n in ("facebook", "x", "linkedin", "whatsapp", "telegram", "email")
        )
        + "</ul></div>"
    )


def _cards(title: str, links: Sequence[tuple[str, str]], origin: str) -> str:
    cards = "".join(
        f'<div class="td-card"><a href="{u}"><img src="{origin}/wp-content/uploads/{i}.jpg" '
        f'alt="" width="300" height="200"></a><h3 class="entry-title"><a href="{u}">{esc(t)}</a>'
        "</h3></div>"
        for i, (u, t) in enumerate(links)
    )
    return f'<section class="td-cards"><h2 class="block-title">{esc(title)}</h2>{cards}</section>'


# --- a fast server for benchmarks -----------------------------------------------------------------


class BulkServer:
    """Serves a `BulkSite` on 127.0.0.1 from an asyncio loop in a daemon thread.

    Keep-alive HTTP/1.1, GET and HEAD, conditional requests left out (a benchmark fetches
    every page once). Responses come from `prerender` (gzip done ahead), so a request costs
    a dict lookup and a socket write.
    """

    def __init__(self, site: BulkSite, port: int = 0, host: str = "127.0.0.1") -> None:
        self.site = site
        self.host = host
        self.port = port
        self.log: list[tuple[float, str]] = []  # (time.monotonic(), target) of every request
        self._responses: dict[str, _Served] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + self.site.base_path

    def start(self) -> BulkServer:
        """Bind, start the loop thread; returns self. Pages are rendered on first request."""
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        ready.wait()
        return self

    def prerender(self, targets: Sequence[str]) -> None:
        """Render (and gzip) these paths now, so the measured run only serves bytes."""
        for target in targets:
            self._response(target)

    def stop(self) -> None:
        if self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = None

    def __enter__(self) -> BulkServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _run(self, ready: threading.Event) -> None:
        self._loop = loop = asyncio.new_event_loop()
        self._server = loop.run_until_complete(
            asyncio.start_server(self._connection, self.host, self.port, backlog=512)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()
        self._server.close()
        loop.close()

    def _response(self, target: str) -> _Served:
        served = self._responses.get(target)
        if served is None:
            served = self._responses[target] = _prepare(self.site.handle(target, self.origin))
        return served

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                method, target, gzip_ok = _parse_request(head)
                self.log.append((time.monotonic(), target))
                served = self._response(target)
                body, extra = served.body, b""
                if served.gzipped:
                    body, extra = (body, b"Content-Encoding: gzip\r\n") if gzip_ok else (
                        gzip.decompress(body), b"")  # fmt: skip
                writer.write(
                    served.head + extra + b"Content-Length: %d\r\n\r\n" % len(body)
                    + (b"" if method == "HEAD" else body)
                )  # fmt: skip
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()


def _parse_request(head: bytes) -> tuple[str, str, bool]:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    if target.startswith(("http://", "https://")):
        target = "/" + target.split("/", 3)[-1]
    accept = next((v for k, _, v in (h.partition(":") for h in lines[1:])
                   if k.strip().lower() == "accept-encoding"), "")  # fmt: skip
    return method, target, "gzip" in accept


def _prepare(resp: Response) -> _Served:
    headers = {"Content-Type": resp.content_type, **resp.headers}
    if resp.status == 200:
        headers["ETag"] = etag_of(resp.body)
        if resp.last_modified is not None:
            headers["Last-Modified"] = http_date(resp.last_modified)
    reason = {200: "OK", 301: "Moved Permanently", 400: "Bad Request", 404: "Not Found"}
    head = f"HTTP/1.1 {resp.status} {reason.get(resp.status, 'Status')}\r\nServer: nginx\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    if compressible(resp):
        return _Served(resp.status, head.encode("latin-1"), gzip.compress(resp.body, 1), True)
    return _Served(resp.status, head.encode("latin-1"), resp.body, False)


def main(argv: list[str] | None = None) -> int:
    """`python -m replica.bulk [--stories N] [--port N]`: serve a bulk site until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m replica.bulk", description=main.__doc__)
    parser.add_argument("--stories", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--port", type=int, default=8083)
    args = parser.parse_args(argv)
    server = BulkServer(bulk(args.stories, args.seed), port=args.port).start()
    print(server.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
