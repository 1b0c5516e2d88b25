"""The Coastal Ledger: a hand-built news site with an Atom feed and a Google News sitemap.

No spider knows it: it stands for the many sites a user adds with `spider: generic`. Story pages
are semantic HTML5 (`<main>`, `<article>`, `<time>`) with JSON-LD `NewsArticle`; stories live at
`/YYYY/MM/slug/`. A few stories are in Japanese, for the readers of the twin town: their pages,
JSON-LD and sitemap entries say so. The home page links the feed (`<link rel="alternate">`),
robots.txt names the news sitemap, and there is nothing at the other well-known paths (`/feed/`,
`/sitemap.xml`...).
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from replica.base import ReplicaSite, Request, Response, Story
from replica.render import XML, attr, esc, html_response, iso_utc, text_response, xesc

SITE = "The Coastal Ledger"
ATOM = "application/atom+xml; charset=utf-8"
FEED_SIZE = 20
HOME_SIZE = 10
ABOUT = "The Coastal Ledger has reported on the harbour towns of the north coast since 1872."


def story_path(story: Story) -> str:
    """/YYYY/MM/slug/ of the story's publication month."""
    return f"/{story.published:%Y}/{story.published:%m}/{story.slug}/"


class LedgerSite(ReplicaSite):
    """The Coastal Ledger replica; see the module docstring."""

    name = "ledger"
    base_path = "/"
    routes = [
        (re.compile(r"/"), "_home"),
        (re.compile(r"/(\d{4})/(\d{2})/([^/]+)/"), "_article"),
        (re.compile(r"/about/"), "_about"),
        (re.compile(r"/atom\.xml"), "_atom"),
        (re.compile(r"/news-sitemap\.xml"), "_news_sitemap"),
        (re.compile(r"/robots\.txt"), "_robots"),
    ]

    def _home(self, req: Request) -> Response:
        items = "\n".join(_teaser(s) for s in self.stories[:HOME_SIZE])
        main = f'<main><h1 class="visually-hidden">Latest news</h1>\n{items}\n</main>'
        head = '<meta property="og:type" content="website">'
        return html_response(_page(SITE, head, main), self.updated)

    def _article(self, req: Request, year: str, month: str, slug: str) -> Response | None:
        story = self.find(slug)
        if story is None or story_path(story) != req.path:
            return None
        head = _head(story, req.origin + story_path(story))
        page = _page(f"{story.title} | {SITE}", head, _article(story), _lang(story))
        return html_response(page, story.updated)

    def _about(self, req: Request) -> Response:
        main = f"<main><h1>About the Ledger</h1><p>{esc(ABOUT)}</p></main>"
        head = '<meta property="og:type" content="website">'
        return html_response(_page(f"About | {SITE}", head, main), self._oldest())

    def _atom(self, req: Request) -> Response:
        entries = "\n".join(_entry(req.origin, s) for s in self.stories[:FEED_SIZE])
        body = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-GB">
<title>{xesc(SITE)}</title>
<id>{xesc(req.origin)}/</id>
<link rel="self" href="{attr(req.origin)}/atom.xml"/>
<link rel="alternate" type="text/html" href="{attr(req.origin)}/"/>
<updated>{iso_utc(self.updated)}</updated>
{entries}
</feed>
"""
        return Response(body.encode("utf-8"), content_type=ATOM, last_modified=self.updated)

    def _news_sitemap(self, req: Request) -> Response:
        rows = "\n".join(_news_url(req.origin, s) for s in self.stories)
        body = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{rows}
</urlset>
"""  # noqa: E501
        return Response(body.encode("utf-8"), content_type=XML, last_modified=self.updated)

    def _robots(self, req: Request) -> Response:
        return text_response(
            f"User-agent: *\nDisallow: /search\n\nSitemap: {req.origin}/news-sitemap.xml\n"
        )

    def _oldest(self) -> datetime:
        return min((s.published for s in self.stories), default=self.updated)


def _lang(story: Story) -> str:
    """The page language: the Ledger's own English is British."""
    return "en-GB" if story.language == "en" else story.language


def _page(title: str, head: str, main: str, lang: str = "en-GB") -> str:
    return f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<title>{esc(title)}</title>
<link rel="alternate" type="application/atom+xml" title="{attr(SITE)}" href="/atom.xml">
{head}
</head>
<body>
<header><nav><a href="/">Home</a> <a href="/about/">About</a></nav></header>
<div class="cookie-banner">We use cookies to improve your experience. <button>Accept all</button></div>
{main}
<footer><p>© {esc(SITE)}. All rights reserved.</p></footer>
</body>
</html>
"""  # noqa: E501 - one line per element keeps the markup readable


def _teaser(story: Story) -> str:
    return (
        f'<article class="teaser"><h2><a href="{attr(story_path(story))}">{esc(story.title)}</a>'
        f'</h2><time datetime="{iso_utc(story.published)}">{_long(story.published)}</time>'
        f"<p>{esc(story.paragraphs[0] if story.paragraphs else '')}</p></article>"
    )


def _head(story: Story, url: str) -> str:
    ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": story.title,
        "datePublished": story.published.isoformat(),
        "dateModified": story.updated.isoformat(),
        "author": [{"@type": "Person", "name": story.author}],
        "articleSection": story.section,
        "inLanguage": _lang(story),
    }
    script = json.dumps(ld, ensure_ascii=False).replace("</", "<\\/")
    return f"""<meta property="og:type" content="article">
<meta property="og:title" content="{attr(story.title)}">
<meta property="og:url" content="{attr(url)}">
<link rel="canonical" href="{attr(url)}">
<script type="application/ld+json">{script}</script>"""


def _article(story: Story) -> str:
    paragraphs = "\n".join(f"<p>{esc(p)}</p>" for p in story.paragraphs)
    author = story.author or SITE
    profile = "/authors/" + re.sub(r"[^a-z]+", "-", author.lower()).strip("-") + "/"
    return f"""<main>
<article>
<header>
<h1>{esc(story.title)}</h1>
<p class="byline">By <a rel="author" href="{attr(profile)}">{esc(author)}</a> · <time datetime="{iso_utc(story.published)}">{_long(story.published)}</time></p>
</header>
<div class="share-bar"><a href="#">Share on Facebook</a> <a href="#">Share on X</a> <a href="#">Copy link</a></div>
{paragraphs}
<aside class="newsletter"><h3>Get the Ledger in your inbox</h3><p>Sign up for our free morning briefing with the stories that matter on the coast.</p><form><input type="email"><button>Sign up</button></form></aside>
</article>
</main>"""  # noqa: E501 - one line per element keeps the markup readable


def _entry(origin: str, story: Story) -> str:
    url = origin + story_path(story)
    summary = story.paragraphs[0] if story.paragraphs else ""
    return f"""<entry>
<title>{xesc(story.title)}</title>
<link rel="alternate" type="text/html" href="{attr(url)}"/>
<id>{xesc(url)}</id>
<published>{story.published.isoformat()}</published>
<updated>{story.updated.isoformat()}</updated>
<author><name>{xesc(story.author or SITE)}</name></author>
<summary>{xesc(summary)}</summary>
</entry>"""


def _news_url(origin: str, story: Story) -> str:
    return (
        f"<url><loc>{xesc(origin + story_path(story))}</loc>"
        f"<lastmod>{iso_utc(story.updated)}</lastmod>"
        f"<news:news><news:publication><news:name>{xesc(SITE)}</news:name>"
        f"<news:language>{xesc(story.language)}</news:language></news:publication>"
        f"<news:publication_date>{story.published.isoformat()}</news:publication_date>"
        f"<news:title>{xesc(story.title)}</news:title></news:news></url>"
    )


def _long(when: datetime) -> str:
    return f"{when.day} {when:%B %Y}"
