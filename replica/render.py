"""Markup helpers shared by both replicas: escaping, dates, RSS and sitemaps."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from replica.base import Response

RSS = "application/rss+xml; charset=utf-8"
XML = "application/xml; charset=utf-8"
JSON = "application/json; charset=UTF-8"
TEXT = "text/plain; charset=utf-8"

MONTHS = {
    "en": "January February March April May June July August September October November December",
    "ru": "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "az": "yanvar fevral mart aprel may iyun iyul avqust sentyabr oktyabr noyabr dekabr",
}


def esc(text: str) -> str:
    """Escape text for HTML element content (quotes stay as written, as a CMS emits them)."""
    return escape(text, quote=False)


def attr(text: str) -> str:
    """Escape text for a double-quoted HTML or XML attribute."""
    return escape(text, quote=True)


def xesc(text: str) -> str:
    """Escape text for XML element content."""
    return xml_escape(text)


def cdata(text: str) -> str:
    """Wrap text in CDATA, splitting any "]]>" so hostile text cannot end the section."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def long_date(when: datetime, language: str = "en") -> str:
    """ "28 October 2025 10:06" in the given language, in `when`'s own timezone."""
    month = MONTHS[language].split()[when.month - 1]
    return f"{when.day} {month} {when.year} {when:%H:%M}"


def rfc822(when: datetime) -> str:
    """An RSS pubDate: "Tue, 28 Oct 2025 10:06:00 +0400"."""
    return format_datetime(when)


def iso_utc(when: datetime) -> str:
    """ISO 8601 in UTC with an explicit offset, as sitemaps carry it."""
    return when.astimezone(UTC).isoformat()


def html_response(markup: str, last_modified: datetime | None, status: int = 200) -> Response:
    """An HTML page response."""
    return Response(markup.encode("utf-8"), status=status, last_modified=last_modified)


def json_response(
    data: Any,
    last_modified: datetime | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """A JSON response, compact like WordPress emits it."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status, JSON, dict(headers or {}), last_modified)


def json_script(data: Any) -> str:
    """JSON for a <script> element; "</" is escaped so text cannot close the element."""
    return json.dumps(data, ensure_ascii=False, indent=1).replace("</", "<\\/")


@dataclass(frozen=True)
class FeedItem:
    """One RSS item; `extra` is pre-rendered XML (dc:creator, content:encoded...)."""

    title: str
    link: str
    published: datetime
    description: str
    categories: tuple[str, ...] = ()
    guid: str = ""
    extra: str = ""


def rss(
    channel: dict[str, str], items: Iterable[FeedItem], built: datetime, namespaces: str = ""
) -> Response:
    """An RSS 2.0 document; `channel` holds title, link, description, self and language."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"{namespaces}>',
        "<channel>",
        f"<title>{xesc(channel['title'])}</title>",
        f'<atom:link href="{attr(channel["self"])}" rel="self" type="application/rss+xml" />',
        f"<link>{xesc(channel['link'])}</link>",
        f"<description>{xesc(channel['description'])}</description>",
        f"<lastBuildDate>{rfc822(built)}</lastBuildDate>",
        f"<language>{xesc(channel['language'])}</language>",
        *(_rss_item(item) for item in items),
        "</channel>",
        "</rss>",
        "",
    ]
    return Response("\n".join(parts).encode("utf-8"), content_type=RSS, last_modified=built)


def _rss_item(item: FeedItem) -> str:
    guid = item.guid or item.link
    permalink = "true" if guid == item.link else "false"
    lines = [
        "<item>",
        f"<title>{xesc(item.title)}</title>",
        f"<link>{xesc(item.link)}</link>",
        f"<pubDate>{rfc822(item.published)}</pubDate>",
        *(f"<category>{cdata(c)}</category>" for c in item.categories),
        f'<guid isPermaLink="{permalink}">{xesc(guid)}</guid>',
        f"<description>{cdata(item.description)}</description>",
        item.extra,
        "</item>",
    ]
    return "\n".join(line for line in lines if line)


SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def sitemap_index(entries: Iterable[tuple[str, datetime | None]], built: datetime) -> Response:
    """A <sitemapindex> of (loc, lastmod) pairs."""
    rows = [
        f"<sitemap><loc>{xesc(loc)}</loc>"
        + (f"<lastmod>{iso_utc(mod)}</lastmod>" if mod else "")
        + "</sitemap>"
        for loc, mod in entries
    ]
    return _xml(f'<sitemapindex xmlns="{SITEMAP_NS}">', rows, "</sitemapindex>", built)


def urlset(entries: Iterable[tuple[str, datetime]], built: datetime) -> Response:
    """A <urlset> of (loc, lastmod) pairs."""
    rows = [
        f"<url><loc>{xesc(loc)}</loc><lastmod>{iso_utc(mod)}</lastmod></url>"
        for loc, mod in entries
    ]
    return _xml(f'<urlset xmlns="{SITEMAP_NS}">', rows, "</urlset>", built)


def _xml(opening: str, rows: list[str], closing: str, built: datetime) -> Response:
    body = "\n".join(['<?xml version="1.0" encoding="UTF-8"?>', opening, *rows, closing, ""])
    return Response(body.encode("utf-8"), content_type=XML, last_modified=built)


def text_response(text: str, last_modified: datetime | None = None) -> Response:
    """A text/plain response (robots.txt)."""
    return Response(text.encode("utf-8"), content_type=TEXT, last_modified=last_modified)
