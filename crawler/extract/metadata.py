"""Page metadata: title, author, dates, language, canonical URL.

Sources in order of trust: JSON-LD (NewsArticle and kin), OpenGraph / article meta tags,
then plain HTML (``<title>``, ``<html lang>``, ``<meta name=author>``). Site rules, applied by
``crawler.extract.article``, override any of these.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser
from lxml import html as lxml_html

logger = logging.getLogger(__name__)

ARTICLE_TYPES = {
    "Article",
    "NewsArticle",
    "ReportageNewsArticle",
    "AnalysisNewsArticle",
    "BlogPosting",
    "BackgroundNewsArticle",
    "OpinionNewsArticle",
    "ReviewNewsArticle",
    "LiveBlogPosting",
}


@dataclass
class Metadata:
    title: str | None = None
    author: str | None = None
    published: str | None = None
    modified: str | None = None
    language: str | None = None
    description: str | None = None
    canonical: str | None = None
    body: str | None = None  # JSON-LD articleBody, when the page has one
    is_article: bool = False  # the page says it is a story (JSON-LD type or og:type)


def page_metadata(tree: lxml_html.HtmlElement, tz: str | None = None) -> Metadata:
    """Everything the page says about itself in structured form."""
    meta = _meta_tags(tree)
    ld = _json_ld_article(tree)
    md = Metadata()
    md.title = _first(ld.get("headline"), meta.get("og:title"), meta.get("twitter:title"))
    md.title = md.title or _html_title(tree)
    md.author = _first(_ld_author(ld.get("author")), meta.get("author"), meta.get("article:author"))
    if md.author and md.author.startswith("http"):
        md.author = None  # article:author is often a profile URL, not a name
    md.published = to_iso(
        _first(ld.get("datePublished"), meta.get("article:published_time"), meta.get("date")), tz
    )
    md.modified = to_iso(_first(ld.get("dateModified"), meta.get("article:modified_time")), tz)
    md.language = language_code(
        _first(tree.get("lang"), ld.get("inLanguage"), meta.get("og:locale"))
    )
    md.description = _first(meta.get("og:description"), meta.get("description"))
    md.canonical = _first(_canonical_link(tree), meta.get("og:url"))
    md.body = _first(ld.get("articleBody"))
    md.is_article = bool(ld) or (meta.get("og:type") or "").lower() == "article"
    return md


def to_iso(value: str | None, tz: str | None = None, formats: tuple[str, ...] = ()) -> str | None:
    """A date string as ISO 8601 with a UTC offset; naive times are taken in ``tz`` (else UTC)."""
    if not value:
        return None
    value = " ".join(value.split())
    parsed = _strptime_any(value, formats) if formats else None
    if parsed is None:
        try:
            parsed = dateparser.parse(value)
        except (ValueError, OverflowError):
            logger.debug("unparseable date %r", value)
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(tz) if tz else UTC)
    return parsed.isoformat()


def _strptime_any(value: str, formats: tuple[str, ...]) -> datetime | None:
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            continue
    return None


def language_code(value: str | None) -> str | None:
    """``en-US``, ``en_GB``, ``EN`` -> ``en``."""
    if not value:
        return None
    m = re.match(r"^\s*([A-Za-z]{2,3})\b", str(value))
    return m.group(1).lower() if m else None


def _first(*values: object) -> str | None:
    for v in values:
        if isinstance(v, list):
            v = v[0] if v else None
        if isinstance(v, str) and v.strip():
            return " ".join(v.split())
    return None


def _meta_tags(tree: lxml_html.HtmlElement) -> dict[str, str]:
    found: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = el.get("content")
        if key and content and key not in found:
            found[key] = content
    return found


def _html_title(tree: lxml_html.HtmlElement) -> str | None:
    h1 = tree.find(".//h1")
    if h1 is not None and h1.text_content().strip():
        return " ".join(h1.text_content().split())
    title = tree.find(".//title")
    return " ".join(title.text_content().split()) if title is not None else None


def _canonical_link(tree: lxml_html.HtmlElement) -> str | None:
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split():
            return link.get("href")
    return None


def _json_ld_article(tree: lxml_html.HtmlElement) -> dict:
    """The first JSON-LD object of an article type, searching @graph and lists."""
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        for obj in _walk_ld(data):
            types = obj.get("@type")
            types = types if isinstance(types, list) else [types]
            if ARTICLE_TYPES.intersection(t for t in types if isinstance(t, str)):
                return obj
    return {}


def _walk_ld(data: object) -> list[dict]:
    if isinstance(data, list):
        return [o for item in data for o in _walk_ld(item)]
    if isinstance(data, dict):
        return [data, *_walk_ld(data.get("@graph", []))]
    return []


def _ld_author(author: object) -> str | None:
    if isinstance(author, list):
        names = [_ld_author(a) for a in author]
        return ", ".join(n for n in names if n) or None
    if isinstance(author, dict):
        return _first(author.get("name"))
    return _first(author)
