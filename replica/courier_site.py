"""The Southern Courier: a site with nothing but HTML pages.

No feed, no sitemap, no API: stories are found only on the home page and on paginated section
pages (`/section/<name>/?page=N`, "Older stories" with `rel="next"`). Story pages
(`/story/<slug>.html`) say they are stories only through `og:type=article`; there is no JSON-LD.
Static pages (`/about/`) and sections are `og:type=website`.
"""

from __future__ import annotations

import re
from datetime import datetime

from replica.base import ReplicaSite, Request, Response, Story, page_number, page_of, slugify
from replica.render import attr, esc, html_response, text_response

SITE = "The Southern Courier"
HOME_SIZE = 4
PAGE_SIZE = 2
SECTIONS = ("World", "Business", "Science")
ABOUT = "The Southern Courier has been independent and reader-funded since 1921."


def story_path(story: Story) -> str:
    """/story/<slug>.html"""
    return f"/story/{story.slug}.html"


class CourierSite(ReplicaSite):
    """The Southern Courier replica; see the module docstring."""

    name = "courier"
    base_path = "/"
    routes = [
        (re.compile(r"/"), "_home"),
        (re.compile(r"/section/([a-z-]+)/"), "_section"),
        (re.compile(r"/story/([^/]+)\.html"), "_story"),
        (re.compile(r"/about/"), "_about"),
        (re.compile(r"/robots\.txt"), "_robots"),
    ]

    def _home(self, req: Request) -> Response:
        items = "\n".join(_teaser(s) for s in self.stories[:HOME_SIZE])
        main = f'<section class="top-stories"><h1>Top stories</h1>\n{items}\n</section>'
        return html_response(_page(SITE, _website(req.origin + "/"), main), self.updated)

    def _section(self, req: Request, slug: str) -> Response | None:
        names = {slugify(s): s for s in SECTIONS}
        page = page_number(req.param("page", "1"))
        if slug not in names or page is None:
            return None
        shown, more = page_of(self.listed(section=slug), page, PAGE_SIZE)
        if not shown and page > 1:
            return None
        items = "\n".join(_teaser(s) for s in shown)
        older = f'<a class="older" rel="next" href="?page={page + 1}">Older stories</a>'
        main = f'<section class="section"><h1>{esc(names[slug])}</h1>\n{items}\n'
        main += f'<nav class="pager">{older if more else ""}</nav></section>'
        head = _website(f"{req.origin}/section/{slug}/")
        return html_response(_page(f"{names[slug]} | {SITE}", head, main), self.updated)

    def _story(self, req: Request, slug: str) -> Response | None:
        story = self.find(slug)
        if story is None:
            return None
        head = _head(story, req.origin + story_path(story))
        return html_response(_page(f"{story.title} | {SITE}", head, _body(story)), story.updated)

    def _about(self, req: Request) -> Response:
        main = f'<div class="page"><h1>About us</h1><p>{esc(ABOUT)}</p></div>'
        head = _website(f"{req.origin}/about/")
        return html_response(_page(f"About | {SITE}", head, main), self._oldest())

    def _robots(self, req: Request) -> Response:
        return text_response("User-agent: *\nDisallow: /search/\n")

    def _oldest(self) -> datetime:
        return min((s.published for s in self.stories), default=self.updated)


def _page(title: str, head: str, main: str) -> str:
    sections = " ".join(f'<a href="/section/{slugify(s)}/">{esc(s)}</a>' for s in SECTIONS)
    return f"""<!DOCTYPE html>
<html lang="en-AU">
<head>
<meta charset="utf-8">
<title>{esc(title)}</title>
{head}
</head>
<body>
<div class="masthead"><a class="logo" href="/">{esc(SITE)}</a></div>
<div class="menu"><a href="/">Home</a> {sections} <a href="/about/">About</a></div>
<div class="content">
{main}
</div>
<div class="footer">Copyright {esc(SITE)}. Letters to the editor: letters@courier.example</div>
</body>
</html>
"""


def _website(url: str) -> str:
    return f'<meta property="og:type" content="website">\n<link rel="canonical" href="{attr(url)}">'


def _teaser(story: Story) -> str:
    return (
        f'<div class="teaser"><h3><a href="{attr(story_path(story))}">{esc(story.title)}</a></h3>'
        f'<span class="when">{_dateline(story.published)}</span></div>'
    )


def _head(story: Story, url: str) -> str:
    return f"""<meta property="og:type" content="article">
<meta property="og:title" content="{attr(story.title)}">
<meta property="og:url" content="{attr(url)}">
<meta property="article:published_time" content="{story.published.isoformat()}">
<meta name="author" content="{attr(story.author or SITE)}">
<link rel="canonical" href="{attr(url)}">"""


def _body(story: Story) -> str:
    paragraphs = "\n".join(f"<p>{esc(p)}</p>" for p in story.paragraphs)
    return f"""<div class="story">
<h1 class="headline">{esc(story.title)}</h1>
<div class="dateline">{esc(story.author or SITE)} | {_dateline(story.published)}</div>
<div class="story-text">
{paragraphs}
</div>
<div class="more-from">More from <a href="/section/{slugify(story.section)}/">{esc(story.section)}</a></div>
</div>"""  # noqa: E501


def _dateline(when: datetime) -> str:
    return f"{when:%A} {when.day} {when:%B %Y}, {when:%H:%M}"
