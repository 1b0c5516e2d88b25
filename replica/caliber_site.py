"""Caliber.az replica: a custom CMS with English, Russian and Azerbaijani editions.

Markup follows SPEC "What is known of the seed sites": `.post`, `h1.post_title`, `.post_time`,
`.post_body p`, the junk blocks around them, `.float_block` search cards, `/rss.xml`. There is
deliberately no JSON-LD, as on the real site.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from replica.base import ReplicaSite, Request, Response, Story, page_number, page_of, slugify
from replica.caliber_html import (
    THEMES,
    article_main,
    card,
    news_item,
    next_link,
    page,
    sections_of,
)
from replica.render import FeedItem, attr, esc, html_response, rss, text_response

PAGE_SIZE = 5
RSS_SIZE = 30
SIDEBAR_SIZE = 6
PREFIX = {"en": "/en/", "ru": "/", "az": "/az/"}
_LANG = {"en/": "en", "az/": "az", None: "ru"}


def story_path(story: Story) -> str:
    """The path of a story's page: /en/post/slug, /post/slug (Russian) or /az/post/slug."""
    return f"{PREFIX[story.language]}post/{story.slug}"


class CaliberSite(ReplicaSite):
    """The Caliber.az replica; see the module docstring."""

    name = "caliber"
    base_path = "/en/"
    themes = THEMES
    routes = [
        (re.compile(r"/(en/|az/)?"), "_home"),
        # The CMS also answers a trailing-slash variant and an AMP edition of every story;
        # both declare the plain URL as canonical.
        (re.compile(r"/(en/|az/)?post/([^/]+)/?"), "_article"),
        (re.compile(r"/(en/|az/)?post/([^/]+)/amp/?"), "_article"),
        (re.compile(r"/(en/|az/)?category/([^/]+)"), "_category"),
        (re.compile(r"/en/search(?:/(.*))?"), "_search"),
        (re.compile(r"/rss\.xml"), "_rss"),
        (re.compile(r"/robots\.txt"), "_robots"),
    ]

    def fallback(self, req: Request) -> Response:
        """The edition homes answer without their trailing slash too, by redirect."""
        if req.path in ("/en", "/az"):
            return Response(b"", 301, headers={"Location": f"{req.origin}{req.path}/"})
        return self.not_found()

    def not_found(self) -> Response:
        """A 404 page in the site's own chrome, as the real CMS answers."""
        main = '<div class="error_page"><h1>404</h1><p>Page not found</p></div>'
        markup = page("en", "Page not found | Caliber.Az", "", main, self.theme)
        return html_response(markup, None, 404)

    def _home(self, req: Request, prefix: str | None) -> Response | None:
        lang = _LANG[prefix]
        head = f'<link rel="canonical" href="{attr(req.origin + PREFIX[lang])}">'
        return self._listing(req, lang, self.listed(lang), "Caliber.Az", head)

    def _category(self, req: Request, prefix: str | None, slug: str) -> Response | None:
        lang = _LANG[prefix]
        names = sections_of(lang)
        if slug not in names:
            return None
        heading = f'<h1 class="category_title">{esc(names[slug].upper())}</h1>'
        title = f"{names[slug]} | Caliber.Az"
        return self._listing(req, lang, self.listed(lang, slug), title, "", heading)

    def _listing(
        self, req: Request, lang: str, stories: list[Story], title: str, head: str, top: str = ""
    ) -> Response | None:
        number = page_number(req.param("page", "1"))
        if number is None:
            return None
        shown, more = page_of(stories, number, PAGE_SIZE)
        items = "\n".join(news_item(s, story_path(s)) for s in shown)
        nav = next_link(req.path, number + 1) if more else ""
        main = f'{top}<div class="news_list">\n{items}\n</div>{nav}'
        return html_response(page(lang, title, head, main, self.theme), self.updated)

    def _article(self, req: Request, prefix: str | None, slug: str) -> Response | None:
        story = self.find(slug)
        if story is None or story.language != _LANG[prefix]:
            return None
        others = [s for s in self.listed(story.language) if s is not story][:SIDEBAR_SIZE]
        sidebar = [(story_path(s), s) for s in others]
        url = req.origin + story_path(story)
        head, main = article_main(story, url, sidebar, self.theme)
        markup = page(story.language, f"{story.title} | Caliber.Az", head, main, self.theme)
        return html_response(markup, story.updated)

    def _search(self, req: Request, raw: str | None) -> Response:
        words = unquote((raw or "").replace("+", " ")).strip()
        terms = words.lower().split()
        hits = [s for s in self.listed("en") if terms and all(t in s.text for t in terms)]
        cards = "\n".join(card(s, story_path(s)) for s in hits)
        empty = "" if hits else '<div class="search_empty">Nothing found</div>'
        main = (
            f'<div class="search_page"><h1 class="search_title">Search results: {esc(words)}'
            f'</h1>\n<div class="float_blocks">\n{cards}\n</div>{empty}</div>'
        )
        markup = page("en", f"{words} | Caliber.Az", "", main, self.theme)
        return html_response(markup, self.updated)

    def _rss(self, req: Request) -> Response:
        items = [
            FeedItem(
                title=s.title,
                link=req.origin + story_path(s),
                published=s.published,
                description=s.paragraphs[0] if s.paragraphs else "",
                categories=(sections_of(s.language).get(slugify(s.section), s.section),),
            )
            for s in self.stories[:RSS_SIZE]
        ]
        channel = {
            "title": "Caliber.Az",
            "link": req.origin + "/",
            "self": req.origin + "/rss.xml",
            "description": "Caliber.Az - news and analytics",
            "language": "ru",
        }
        return rss(channel, items, self.updated)

    def _robots(self, req: Request) -> Response:
        return text_response("User-agent: *\nDisallow: /admin/\n")
