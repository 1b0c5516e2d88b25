"""EQMint replica: WordPress with Yoast SEO, a feed, the REST API and two sitemap flavours."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime

from replica import eqmint_html as tpl
from replica.base import (
    ReplicaSite,
    Request,
    Response,
    Story,
    page_number,
    page_of,
    slugify,
)
from replica.eqmint_api import (
    FEED_NAMESPACES,
    REST_MAX_PER_PAGE,
    excerpt,
    feed_item,
    matches,
    plain_content,
    post_object,
    rest_error,
)
from replica.render import (
    attr,
    esc,
    html_response,
    json_response,
    json_script,
    rss,
    sitemap_index,
    text_response,
    urlset,
)

PAGE_SIZE = 6
FEED_SIZE = 10
RECENT_SIZE = 5
RELATED_SIZE = 3
FIRST_POST_ID = 48211
# Static pages (not news): listed in page-sitemap.xml, served without article metadata.
PAGES = {
    "about-us": ("About Us", "EQMint brings you business, finance and general news from India."),
    "privacy-policy": ("Privacy Policy", "We respect your privacy. This policy explains how."),
}
_HOME_BODY = "home blog"


class EqmintSite(ReplicaSite):
    """The EQMint replica; see the module docstring."""

    name = "eqmint"
    base_path = "/"
    themes = tpl.THEMES
    routes = [
        (re.compile(r"/"), "_home"),
        (re.compile(r"/page/(\d+)/"), "_home"),
        (re.compile(r"/(category|tag)/([^/]+)/(?:page/(\d+)/)?"), "_archive"),
        (re.compile(r"/feed/"), "_feed"),
        (re.compile(r"/wp-json/?"), "_rest_index"),
        (re.compile(r"/wp-json/wp/v2/posts/?"), "_rest_posts"),
        (re.compile(r"/wp-json/wp/v2/posts/(\d+)/?"), "_rest_post"),
        (re.compile(r"/wp-json/.*"), "_rest_no_route"),
        (re.compile(r"/sitemap_index\.xml"), "_sitemap_index"),
        (re.compile(r"/post-sitemap\.xml"), "_post_sitemap"),
        (re.compile(r"/page-sitemap\.xml"), "_page_sitemap"),
        (re.compile(r"/wp-sitemap\.xml"), "_wp_sitemap"),
        (re.compile(r"/wp-sitemap-posts-post-1\.xml"), "_post_sitemap"),
        (re.compile(r"/robots\.txt"), "_robots"),
        (re.compile(r"/([^/]+)/"), "_single"),
    ]

    def __init__(self, stories: Sequence[Story]) -> None:
        super().__init__(stories)
        self.post_ids: dict[str, int] = {}
        for story in reversed(self.stories):  # oldest first, like WordPress auto-increment
            self._assign_id(story)

    def add_story(self, story: Story) -> Story:
        """Publish a story; it gets the next post id."""
        with self._lock:
            super().add_story(story)
            self._assign_id(story)
            return story

    def _assign_id(self, story: Story) -> None:
        self.post_ids[story.slug] = max(self.post_ids.values(), default=FIRST_POST_ID - 17) + 17

    def link(self, req: Request, story: Story) -> str:
        """A story's permalink."""
        return f"{req.origin}/{story.slug}/"

    # -- HTML pages --------------------------------------------------------------------------

    def not_found(self) -> Response:
        """WordPress's 404 template."""
        main = (
            '<section class="error-404 not-found"><header class="page-header">'
            '<h1 class="page-title">Oops! That page can&rsquo;t be found.</h1></header>'
            '<div class="page-content"><p>It looks like nothing was found at this location.'
            " Maybe try a search?</p></div></section>"
        )
        markup = tpl.page("", f"Page not found - {tpl.SITE}", "error404", "", main, "", self.theme)
        return html_response(markup, None, 404)

    def fallback(self, req: Request) -> Response:
        """WordPress's canonical redirect: add the missing trailing slash."""
        if not req.path.endswith("/") and "." not in req.path.rsplit("/", 1)[-1]:
            target = req.path + "/"
            if self.handle(target, req.origin).status == 200:
                return Response(b"", 301, headers={"Location": req.origin + target})
        return self.not_found()

    def _home(self, req: Request, number: str = "1") -> Response | None:
        if req.param("p").isdigit():
            return self._shortlink(req, int(req.param("p")))
        if "s" in req.query:
            return self._search_page(req, req.param("s"))
        base = f"{req.origin}/"
        return self._listing(req, self.stories, number, base, tpl.SITE, _HOME_BODY)

    def _archive(self, req: Request, kind: str, slug: str, number: str | None) -> Response | None:
        if kind == "category":
            chosen = [s for s in self.stories if slugify(s.section) == slug]
        else:
            chosen = [s for s in self.stories if slug in {slugify(t) for t in s.tags}]
        if not chosen:
            return None
        base = f"{req.origin}/{kind}/{slug}/"
        title = f"{chosen[0].section if kind == 'category' else slug} Archives - {tpl.SITE}"
        return self._listing(req, chosen, number or "1", base, title, f"archive {kind}")

    def _listing(
        self, req: Request, stories: list[Story], number: str, base: str, title: str, body: str
    ) -> Response | None:
        page = page_number(number)
        if page is None:
            return None
        shown, more = page_of(stories, page, PAGE_SIZE)
        if not shown and page > 1:
            return None
        items = "\n".join(self._summary(req, s) for s in shown)
        main = items + tpl.pagination(f"{base}page/{page + 1}/" if more else None)
        head = f'<link rel="canonical" href="{attr(base if page == 1 else f"{base}page/{page}/")}">'
        markup = tpl.page(req.origin, title, body, head, main, self._recent(req), self.theme)
        return html_response(markup, self.updated)

    def _summary(self, req: Request, story: Story) -> str:
        post_id = self.post_ids[story.slug]
        return tpl.summary(story, post_id, self.link(req, story), excerpt(story, req.origin))

    def _search_page(self, req: Request, words: str) -> Response:
        hits = [s for s in self.stories if matches(s, req.origin, words)]
        found = "\n".join(self._summary(req, s) for s in hits)
        nothing = (
            '<section class="no-results not-found"><h2 class="page-title">Nothing Found</h2>'
            "<p>Sorry, but nothing matched your search terms.</p></section>"
        )
        main = (
            f'<header class="page-header"><h1 class="page-title">Search Results for: '
            f"<span>{esc(words)}</span></h1></header>\n{found or nothing}"
        )
        title = f"You searched for {words} - {tpl.SITE}"
        markup = tpl.page(
            req.origin, title, "search search-results", "", main, self._recent(req), self.theme
        )
        return html_response(markup, self.updated)

    def _shortlink(self, req: Request, post_id: int) -> Response | None:
        for slug, known in self.post_ids.items():
            story = self.find(slug)
            if known == post_id and story is not None:
                return Response(b"", 301, headers={"Location": self.link(req, story)})
        return None

    def _single(self, req: Request, slug: str) -> Response | None:
        story = self.find(slug)
        if story is None:
            return self._static_page(req, slug)
        url = self.link(req, story)
        post_id = self.post_ids[slug]
        words = len(plain_content(story, req.origin).split())
        head = tpl.head_tags(story, url, tpl.graph(story, url, req.origin, words))
        main = "\n".join(
            [
                tpl.single(story, post_id, req.origin, self.theme),
                tpl.comments(story, req.origin),
                tpl.related([(self.link(req, s), s.title) for s in self._related(story)]),
            ]
        )
        body = f"post-template-default single single-post postid-{post_id} single-format-standard"
        markup = tpl.page(
            req.origin,
            f"{story.title} - {tpl.SITE}",
            body,
            head,
            main,
            self._recent(req),
            self.theme,
        )
        return html_response(markup, story.updated)

    def _static_page(self, req: Request, slug: str) -> Response | None:
        if slug not in PAGES:
            return None
        title, text = PAGES[slug]
        url = f"{req.origin}/{slug}/"
        # As Yoast marks a static page: og:type "article", and a graph with no Article in it.
        graph = {"@context": "https://schema.org", "@graph": [
            {"@type": "WebPage", "@id": url, "url": url, "name": f"{title} - {tpl.SITE}"},
            {"@type": "WebSite", "@id": f"{req.origin}/#website", "name": tpl.SITE},
        ]}  # fmt: skip
        head = (
            f'<link rel="canonical" href="{url}">\n<meta property="og:type" content="article">\n'
            f'<script type="application/ld+json" class="yoast-schema-graph">{json_script(graph)}'
            "</script>"
        )
        main = (
            f'<article class="page type-page status-publish"><header class="entry-header">'
            f'<h1 class="entry-title">{esc(title)}</h1></header>'
            f'<div class="entry-content"><p>{esc(text)}</p></div></article>'
        )
        markup = tpl.page(
            req.origin,
            f"{title} - {tpl.SITE}",
            "page-template-default page",
            head,
            main,
            self._recent(req),
            self.theme,
        )
        return html_response(markup, self._pages_modified())

    def _related(self, story: Story) -> list[Story]:
        chosen = [s for s in map(self.find, story.related) if s is not None]
        if chosen:
            return chosen
        same = [s for s in self.stories if s is not story and s.section == story.section]
        return same[:RELATED_SIZE]

    def _recent(self, req: Request) -> str:
        return tpl.sidebar([(self.link(req, s), s.title) for s in self.stories[:RECENT_SIZE]])

    # -- machine endpoints ---------------------------------------------------------------------

    def _feed(self, req: Request) -> Response:
        items = [feed_item(s, self.post_ids[s.slug], req.origin) for s in self.stories[:FEED_SIZE]]
        channel = {
            "title": tpl.SITE,
            "link": req.origin,
            "self": f"{req.origin}/feed/",
            "description": "Business, finance and general news",
            "language": "en-US",
        }
        return rss(channel, items, self.updated.astimezone(UTC), FEED_NAMESPACES)

    def _rest_index(self, req: Request) -> Response:
        return json_response(
            {
                "name": tpl.SITE,
                "url": req.origin,
                "home": req.origin,
                "namespaces": ["oembed/1.0", "wp/v2"],
                "routes": {"/wp/v2/posts": {"namespace": "wp/v2", "methods": ["GET"]}},
            },
            self.updated,
        )

    def _rest_posts(self, req: Request) -> Response:
        per_page, page = req.param("per_page", "10"), req.param("page", "1")
        if not per_page.isdigit() or not 1 <= int(per_page) <= REST_MAX_PER_PAGE:
            return self._bad_param("per_page", "per_page must be between 1 (inclusive) and 100")
        if not page.isdigit() or int(page) < 1:
            return self._bad_param("page", "page must be greater than or equal to 1")
        chosen = self._rest_filter(req)
        if chosen is None:
            return self._bad_param("after", "Invalid date.")
        size, number = int(per_page), int(page)
        pages = math.ceil(len(chosen) / size)
        if number > max(pages, 1):
            message = "The page number requested is larger than the number of pages available."
            return json_response(
                rest_error("rest_post_invalid_page_number", message, 400), None, 400
            )
        shown, _ = page_of(chosen, number, size)
        fields = req.param("_fields")
        body = [post_object(s, self.post_ids[s.slug], req.origin, fields) for s in shown]
        headers = {"X-WP-Total": str(len(chosen)), "X-WP-TotalPages": str(pages)}
        return json_response(body, self.updated, headers=headers)

    def _rest_filter(self, req: Request) -> list[Story] | None:
        chosen = list(self.stories)
        if "search" in req.query:
            chosen = [s for s in chosen if matches(s, req.origin, req.param("search"))]
        if "slug" in req.query:
            chosen = [s for s in chosen if s.slug in req.param("slug").split(",")]
        for key, field in (("after", "published"), ("modified_after", "modified")):
            if key in req.query:
                since = _rest_date(req.param(key))
                if since is None:
                    return None
                chosen = [s for s in chosen if getattr(s, field) > since]
        return chosen

    def _rest_post(self, req: Request, post_id: str) -> Response:
        for story in self.stories:
            if self.post_ids[story.slug] == int(post_id):
                return json_response(post_object(story, int(post_id), req.origin), story.updated)
        error = rest_error("rest_post_invalid_id", "Invalid post ID.", 404)
        return json_response(error, None, 404)

    def _rest_no_route(self, req: Request) -> Response:
        message = "No route was found matching the URL and request method."
        return json_response(rest_error("rest_no_route", message, 404), None, 404)

    @staticmethod
    def _bad_param(name: str, why: str) -> Response:
        error = rest_error(
            "rest_invalid_param", f"Invalid parameter(s): {name}", 400, params={name: why}
        )
        return json_response(error, None, 400)

    def _sitemap_index(self, req: Request) -> Response:
        entries = [
            (f"{req.origin}/post-sitemap.xml", self.updated),
            (f"{req.origin}/page-sitemap.xml", self._pages_modified()),
        ]
        return sitemap_index(entries, self.updated)

    def _post_sitemap(self, req: Request) -> Response:
        return urlset([(self.link(req, s), s.updated) for s in self.stories], self.updated)

    def _page_sitemap(self, req: Request) -> Response:
        entries = [(f"{req.origin}/", self.updated)]
        entries += [(f"{req.origin}/{slug}/", self._pages_modified()) for slug in PAGES]
        return urlset(entries, self.updated)

    def _wp_sitemap(self, req: Request) -> Response:
        entries: list[tuple[str, datetime | None]] = [
            (f"{req.origin}/wp-sitemap-posts-post-1.xml", None)
        ]
        return sitemap_index(entries, self.updated)

    def _robots(self, req: Request) -> Response:
        return text_response(
            "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\n"
            f"Sitemap: {req.origin}/sitemap_index.xml\n"
        )

    def _pages_modified(self) -> datetime:
        return min((s.published for s in self.stories), default=self.updated)


def _rest_date(raw: str) -> datetime | None:
    # WordPress reads a date without an offset as site-local time.
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=tpl.IST)
