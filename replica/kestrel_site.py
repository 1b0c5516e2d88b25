"""Kestrel Valley Gazette: a WordPress site with its feed switched off.

No spider knows it. Discovery has only what WordPress itself offers once a plugin has disabled
the feeds: the REST API (`/wp-json/wp/v2/posts`, with `search`), the core sitemap
(`/wp-sitemap.xml`, named in robots.txt) and the home page. Posts use date permalinks
(`/YYYY/MM/DD/slug/`) and carry `og:type=article` with a Yoast-style JSON-LD graph; static pages
(`/about/`) are `og:type=website`.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime

from replica.base import ReplicaSite, Request, Response, Story, page_number, page_of, search_terms
from replica.render import (
    attr,
    esc,
    html_response,
    json_response,
    sitemap_index,
    text_response,
    urlset,
)

SITE = "Kestrel Valley Gazette"
PAGE_SIZE = 4
MAX_PER_PAGE = 100
FIRST_ID = 3100
ABOUT = "The Kestrel Valley Gazette is the independent weekly of the Kestrel Valley."


def story_path(story: Story) -> str:
    """/YYYY/MM/DD/slug/, WordPress's "day and name" permalinks."""
    return f"/{story.published:%Y/%m/%d}/{story.slug}/"


class KestrelSite(ReplicaSite):
    """The Kestrel Valley Gazette replica; see the module docstring."""

    name = "kestrel"
    base_path = "/"
    routes = [
        (re.compile(r"/"), "_home"),
        (re.compile(r"/page/(\d+)/"), "_home"),
        (re.compile(r"/\d{4}/\d{2}/\d{2}/([^/]+)/"), "_single"),
        (re.compile(r"/about/"), "_about"),
        (re.compile(r"/wp-json/?"), "_rest_index"),
        (re.compile(r"/wp-json/wp/v2/posts/?"), "_rest_posts"),
        (re.compile(r"/wp-sitemap\.xml"), "_sitemap_index"),
        (re.compile(r"/wp-sitemap-posts-post-1\.xml"), "_post_sitemap"),
        (re.compile(r"/wp-sitemap-posts-page-1\.xml"), "_page_sitemap"),
        (re.compile(r"/robots\.txt"), "_robots"),
    ]

    def post_id(self, story: Story) -> int:
        """A stable post id: the story's rank from the oldest, like WordPress's auto-increment."""
        oldest_first = sorted(self.stories, key=lambda s: s.published)
        return FIRST_ID + 7 * oldest_first.index(story)

    # -- HTML -------------------------------------------------------------------------------

    def _home(self, req: Request, number: str = "1") -> Response | None:
        page = page_number(number)
        if page is None:
            return None
        shown, more = page_of(self.stories, page, PAGE_SIZE)
        if not shown and page > 1:
            return None
        items = "\n".join(_summary(s, self.post_id(s)) for s in shown)
        older = f'<a class="next" href="/page/{page + 1}/">Older posts</a>'
        nav = f'<nav class="pagination">{older}</nav>'
        main = items + (nav if more else "")
        head = '<meta property="og:type" content="website">'
        return html_response(_page(esc(SITE), "home blog", head, main), self.updated)

    def _single(self, req: Request, slug: str) -> Response | None:
        story = self.find(slug)
        if story is None or story_path(story) != req.path:
            return None
        url = req.origin + story_path(story)
        body = f"post-template-default single single-post postid-{self.post_id(story)}"
        page = _page(
            f"{esc(story.title)} &#8211; {esc(SITE)}", body, _head(story, url), _post(story)
        )
        return html_response(page, story.updated)

    def _about(self, req: Request) -> Response:
        url = f"{req.origin}/about/"
        graph = {"@context": "https://schema.org", "@graph": [{"@type": "WebPage", "url": url}]}
        head = (
            f'<meta property="og:type" content="website">\n<link rel="canonical" href="{url}">\n'
            f'<script type="application/ld+json">{json.dumps(graph)}</script>'
        )
        main = (
            '<article class="page type-page"><h1 class="entry-title">About</h1>'
            f'<div class="entry-content"><p>{esc(ABOUT)}</p></div></article>'
        )
        return html_response(
            _page(f"About &#8211; {esc(SITE)}", "page", head, main), self._oldest()
        )

    # -- REST API ---------------------------------------------------------------------------

    def _rest_index(self, req: Request) -> Response:
        routes = {"/wp/v2/posts": {"namespace": "wp/v2", "methods": ["GET"]}}
        index = {"name": SITE, "url": req.origin, "namespaces": ["wp/v2"], "routes": routes}
        return json_response(index, self.updated)

    def _rest_posts(self, req: Request) -> Response:
        per_page, page = req.param("per_page", "10"), req.param("page", "1")
        if not per_page.isdigit() or not 1 <= int(per_page) <= MAX_PER_PAGE:
            return _rest_error("rest_invalid_param", "Invalid parameter(s): per_page", 400)
        chosen = self.stories
        if "search" in req.query:
            terms = search_terms(req.param("search"))
            chosen = [s for s in chosen if terms and all(t in s.text for t in terms)]
        pages = math.ceil(len(chosen) / int(per_page))
        if not page.isdigit() or not 1 <= int(page) <= max(pages, 1):
            return _rest_error("rest_post_invalid_page_number", "Invalid page number.", 400)
        shown, _ = page_of(chosen, int(page), int(per_page))
        posts = [_post_object(req.origin, s, self.post_id(s)) for s in shown]
        headers = {"X-WP-Total": str(len(chosen)), "X-WP-TotalPages": str(pages)}
        return json_response(posts, self.updated, headers=headers)

    # -- sitemaps and robots ---------------------------------------------------------------

    def _sitemap_index(self, req: Request) -> Response:
        children: list[tuple[str, datetime | None]] = [
            (f"{req.origin}/wp-sitemap-posts-post-1.xml", None),
            (f"{req.origin}/wp-sitemap-posts-page-1.xml", None),
        ]
        return sitemap_index(children, self.updated)

    def _post_sitemap(self, req: Request) -> Response:
        return urlset([(req.origin + story_path(s), s.updated) for s in self.stories], self.updated)

    def _page_sitemap(self, req: Request) -> Response:
        return urlset([(f"{req.origin}/about/", self._oldest())], self._oldest())

    def _robots(self, req: Request) -> Response:
        return text_response(
            f"User-agent: *\nDisallow: /wp-admin/\n\nSitemap: {req.origin}/wp-sitemap.xml\n"
        )

    def _oldest(self) -> datetime:
        return min((s.published for s in self.stories), default=self.updated)


def _page(title: str, body_class: str, head: str, main: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<title>{title}</title>
{head}
<link rel="https://api.w.org/" href="/wp-json/">
<meta name="generator" content="WordPress 6.8.3">
</head>
<body class="{body_class}">
<div id="page" class="site">
<header id="masthead" class="site-header"><p class="site-title"><a href="/" rel="home">{esc(SITE)}</a></p>
<nav class="main-navigation"><ul class="menu"><li><a href="/">News</a></li><li><a href="/about/">About</a></li></ul></nav></header>
<div id="content" class="site-content"><main id="main" class="site-main">
{main}
</main></div>
<footer class="site-footer"><div class="site-info">Proudly powered by WordPress</div></footer>
</div>
</body>
</html>
"""  # noqa: E501 - one line per element keeps the markup readable


def _summary(story: Story, post_id: int) -> str:
    lead = story.paragraphs[0] if story.paragraphs else ""
    return f"""<article id="post-{post_id}" class="post-{post_id} post type-post status-publish">
<h2 class="entry-title"><a href="{attr(story_path(story))}" rel="bookmark">{esc(story.title)}</a></h2>
<div class="entry-meta"><time class="entry-date published" datetime="{story.published.isoformat()}">{_wp_date(story.published)}</time></div>
<div class="entry-summary"><p>{esc(lead)}</p></div>
</article>"""  # noqa: E501


def _head(story: Story, url: str) -> str:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "Article",
                "headline": story.title,
                "datePublished": story.published.isoformat(),
                "dateModified": story.updated.isoformat(),
                "author": {"@type": "Person", "name": story.author},
                "articleSection": [story.section],
                "inLanguage": "en-US",
            },
            {"@type": "WebPage", "@id": url, "url": url},
        ],
    }
    return f"""<meta property="og:type" content="article">
<meta property="og:title" content="{attr(story.title)}">
<meta property="og:url" content="{attr(url)}">
<meta property="article:published_time" content="{story.published.isoformat()}">
<link rel="canonical" href="{attr(url)}">
<script type="application/ld+json" class="yoast-schema-graph">{json.dumps(graph)}</script>"""


def _post(story: Story) -> str:
    paragraphs = "\n".join(f"<p>{esc(p)}</p>" for p in story.paragraphs)
    tags = ", ".join(f'<a href="/tag/{attr(t)}/" rel="tag">{esc(t)}</a>' for t in story.tags)
    return f"""<article class="post type-post status-publish format-standard hentry">
<header class="entry-header"><h1 class="entry-title">{esc(story.title)}</h1>
<div class="entry-meta">Posted on <time class="entry-date published" datetime="{story.published.isoformat()}">{_wp_date(story.published)}</time> by <span class="author vcard">{esc(story.author or SITE)}</span></div>
</header>
<div class="entry-content">
{paragraphs}
</div>
<footer class="entry-footer"><span class="tags-links">Tagged {tags}</span></footer>
</article>
<div id="comments" class="comments-area"><div id="respond" class="comment-respond"><h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3><form id="commentform" class="comment-form"><p class="comment-notes">Your email address will not be published.</p><textarea name="comment"></textarea><input type="submit" value="Post Comment"></form></div></div>"""  # noqa: E501


def _post_object(origin: str, story: Story, post_id: int) -> dict[str, object]:
    def gmt(when: datetime) -> str:
        return when.astimezone(UTC).replace(tzinfo=None).isoformat()

    return {
        "id": post_id,
        "date_gmt": gmt(story.published),
        "modified_gmt": gmt(story.updated),
        "slug": story.slug,
        "status": "publish",
        "type": "post",
        "link": origin + story_path(story),
        "title": {"rendered": esc(story.title)},
        "excerpt": {"rendered": f"<p>{esc(story.paragraphs[0] if story.paragraphs else '')}</p>"},
    }


def _rest_error(code: str, message: str, status: int) -> Response:
    return json_response(
        {"code": code, "message": message, "data": {"status": status}}, None, status
    )


def _wp_date(when: datetime) -> str:
    return f"{when:%B} {when.day}, {when.year}"
