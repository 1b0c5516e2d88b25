"""WordPress machine endpoints of the EQMint replica: REST post objects, feed items, search."""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from html import unescape

from replica.base import Story, search_terms, slugify
from replica.eqmint_html import IST, content_html, texturize
from replica.render import FeedItem, cdata

EXCERPT_WORDS = 55  # WordPress's default excerpt length
REST_MAX_PER_PAGE = 100


def term_id(name: str, base: int) -> int:
    """A stable id for an author, category or tag (WordPress numbers them; we hash)."""
    return base + zlib.crc32(slugify(name).encode()) % 9000


def plain_content(story: Story, origin: str) -> str:
    """The post content as text, which WordPress searches and excerpts."""
    return unescape(re.sub(r"<[^>]+>", " ", content_html(story, origin)))


def excerpt(story: Story, origin: str) -> str:
    """WordPress's automatic excerpt: the first 55 words of the content, texturized."""
    words = plain_content(story, origin).split()
    return texturize(" ".join(words[:EXCERPT_WORDS])) + " [&hellip;]"


def matches(story: Story, origin: str, words: str) -> bool:
    """WordPress search: every term (or quoted phrase) in the title or the content."""
    terms = search_terms(words)
    haystack = f"{story.title}\n{plain_content(story, origin)}".lower()
    return bool(terms) and all(term in haystack for term in terms)


def _wp_time(when: datetime) -> tuple[str, str]:
    local = when.astimezone(IST).replace(tzinfo=None).isoformat()
    return local, when.astimezone(UTC).replace(tzinfo=None).isoformat()


def post_object(story: Story, post_id: int, origin: str, fields: str = "") -> dict[str, object]:
    """A /wp-json/wp/v2/posts item as WordPress serialises it (the "view" context), cut to
    the REST API's ``_fields`` when given (comma-separated, "title.rendered" for a field of a
    field); as WordPress 4.9.8+ does, fields not asked for are not rendered at all."""
    date, date_gmt = _wp_time(story.published)
    modified, modified_gmt = _wp_time(story.updated)
    link = f"{origin}/{story.slug}/"
    made: dict[str, Callable[[], object]] = {
        "id": lambda: post_id,
        "date": lambda: date,
        "date_gmt": lambda: date_gmt,
        "guid": lambda: {"rendered": f"{origin}/?p={post_id}"},
        "modified": lambda: modified,
        "modified_gmt": lambda: modified_gmt,
        "slug": lambda: story.slug,
        "status": lambda: "publish",
        "type": lambda: "post",
        "link": lambda: link,
        "title": lambda: {"rendered": texturize(story.title)},
        "content": lambda: {"rendered": content_html(story, origin), "protected": False},
        "excerpt": lambda: {"rendered": f"<p>{excerpt(story, origin)}</p>\n", "protected": False},
        "author": lambda: term_id(story.author or "eqmint", 1),
        "featured_media": lambda: 0,
        "comment_status": lambda: "open",
        "ping_status": lambda: "open",
        "sticky": lambda: False,
        "format": lambda: "standard",
        "categories": lambda: [term_id(story.section, 10)],
        "tags": lambda: [term_id(t, 10000) for t in story.tags],
        "_links": lambda: {"self": [{"href": f"{origin}/wp-json/wp/v2/posts/{post_id}"}]},
    }
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    if not wanted:
        return {name: make() for name, make in made.items()}
    out: dict[str, object] = {}
    for field in wanted:
        top, _, sub = field.partition(".")
        if top not in made:
            continue
        value = made[top]()
        if sub and isinstance(value, dict):
            if sub in value:
                kept = out.setdefault(top, {})
                if isinstance(kept, dict):
                    kept[sub] = value[sub]
        else:
            out[top] = value
    return out


def rest_error(code: str, message: str, status: int, **data: object) -> dict[str, object]:
    """A WordPress REST error body."""
    return {"code": code, "message": message, "data": {"status": status, **data}}


def feed_item(story: Story, post_id: int, origin: str) -> FeedItem:
    """A /feed/ item: the excerpt as description, the opening paragraphs as content:encoded."""
    link = f"{origin}/{story.slug}/"
    opening = "\n".join(content_html(story, origin).splitlines()[:3])
    trailer = (
        f'<p>The post <a href="{link}">{texturize(story.title)}</a> appeared first on '
        f'<a href="{origin}">EQMint</a>.</p>'
    )
    extra = (
        f"<dc:creator>{cdata(story.author or 'EQMint')}</dc:creator>\n"
        f"<content:encoded>{cdata(opening + chr(10) + trailer)}</content:encoded>"
    )
    return FeedItem(
        title=story.title,
        link=link,
        published=story.published.astimezone(UTC),
        description=excerpt(story, origin),
        categories=(story.section, *story.tags),
        guid=f"{origin}/?p={post_id}",
        extra=extra,
    )


FEED_NAMESPACES = (
    ' xmlns:content="http://purl.org/rss/1.0/modules/content/"'
    ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
    ' xmlns:sy="http://purl.org/rss/1.0/modules/syndication/"'
)
