"""Page metadata: title, author, dates, language, canonical URL.

Sources in order of trust: JSON-LD (NewsArticle and kin), OpenGraph / article meta tags,
then plain HTML. The title is the visible headline that agrees with the metadata
(``crawler.extract.titles``), dates keep the page's own offset (``crawler.extract.dates``),
authors are person names (``crawler.extract.authors``). Site rules, applied by
``crawler.extract.article``, override any of these.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import html as lxml_html

from crawler.extract import dates
from crawler.extract.authors import page_authors
from crawler.extract.jsonld import (
    ARTICLE_TYPES,
    article_object,
    json_ld_data,
    meta_tags,
    named_types,
    objects_of,
    text_value,
)
from crawler.extract.titles import clean_title, headline, site_names

logger = logging.getLogger(__name__)

# The elements the metadata reads by tag, collected in one walk over the page: a walk costs
# about as much as reading what it finds, and each reader walking the page for its own tag
# made the metadata the costliest step of extraction.
_INDEXED_TAGS = ("script", "meta", "link", "title", "time", "h1")

__all__ = ["ARTICLE_TYPES", "Metadata", "language_code", "page_metadata", "to_iso"]


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
    # The page's <title> as written, for learning the affix a site adds to every title
    # (crawler.extract.site_profile).
    raw_title: str | None = None
    site_names: set[str] = field(default_factory=set)
    ld_types: set[str] = field(default_factory=set)  # every @type its JSON-LD names
    og_type: str | None = None  # the first og:type meta tag's value, lower-cased


def page_metadata(
    tree: lxml_html.HtmlElement,
    tz: str | None = None,
    *,
    url: str | None = None,
    html: str | None = None,
    title_affixes: Iterable[str] = (),
    date_fallback: bool = True,
) -> Metadata:
    """Everything the page says about itself in structured form.

    ``tz`` is the site's time zone for times the page gives without an offset; ``html`` the
    decoded page, for the date fallback (htmldate); ``title_affixes`` the affixes learned
    from the site's titles; ``date_fallback`` False skips htmldate (pages that are not
    stories)."""
    tags: dict[str, list[lxml_html.HtmlElement]] = {tag: [] for tag in _INDEXED_TAGS}
    for element in tree.iter(*_INDEXED_TAGS):
        tags[element.tag].append(element)
    data = json_ld_data(tree, tags["script"])
    objects = objects_of(data)
    meta = meta_tags(tree, tags["meta"])
    ld = article_object(objects)
    names = site_names(objects, meta, url)
    titles = _metadata_titles(tree, ld, meta)
    html_title = _html_title(tags["title"])
    found = headline(tree, titles, names, url, title_affixes, html_title, tags["h1"])
    md = Metadata(site_names=names, ld_types=named_types(data), og_type=_og_type(tags["meta"]))
    md.title = found.text or None
    md.raw_title = clean_title(html_title) or None
    md.author = page_authors(tree, objects, ld, meta, names, url, found.element)
    when = dates.page_dates(
        tree,
        url,
        tz,
        objects=objects,
        meta=meta,
        times=tags["time"],
        html=html,
        headline=found.element,
        fallback=date_fallback,
    )
    md.published, md.modified = when.published, when.modified
    md.language = language_code(
        _first(tree.get("lang"), text_value(ld.get("inLanguage")), _meta(meta, "og:locale"))
    )
    md.description = _first(_meta(meta, "og:description"), _meta(meta, "description"))
    md.canonical = _first(_canonical_link(tags["link"]), _meta(meta, "og:url"))
    md.body = text_value(ld.get("articleBody"))
    md.is_article = bool(ld) or (_meta(meta, "og:type") or "").lower() == "article"
    return md


def to_iso(value: str | None, tz: str | None = None, formats: tuple[str, ...] = ()) -> str | None:
    """A date string as stored: ISO 8601 with its own UTC offset; a time without one in
    ``tz`` (an IANA zone), or only its day when no zone is known; a day as ``YYYY-MM-DD``.
    ``formats`` are strptime formats tried first."""
    parsed = dates.parse_date(value, formats)
    if parsed is None and value:
        logger.debug("unparseable date %r", value)
    return dates.to_iso(parsed, tz)


def language_code(value: str | None) -> str | None:
    """``en-US``, ``en_GB``, ``EN`` -> ``en``."""
    if not value:
        return None
    m = re.match(r"^\s*([A-Za-z]{2,3})\b", str(value))
    return m.group(1).lower() if m else None


def _metadata_titles(
    tree: lxml_html.HtmlElement, ld: dict[str, object], meta: dict[str, list[str]]
) -> list[str]:
    """The titles the metadata gives, most trusted first."""
    found = [
        text_value(ld.get("headline")),
        _meta(meta, "og:title"),
        _meta(meta, "twitter:title"),
    ]
    return [clean_title(t) for t in found if t and clean_title(t)]


def _meta(meta: dict[str, list[str]], key: str) -> str | None:
    values = meta.get(key)
    return values[0] if values else None


def _first(*values: object) -> str | None:
    for v in values:
        if isinstance(v, list):
            v = v[0] if v else None
        if isinstance(v, str) and v.strip():
            return " ".join(v.split())
    return None


def _html_title(titles: list[lxml_html.HtmlElement]) -> str | None:
    return " ".join(titles[0].text_content().split()) if titles else None


def _canonical_link(links: list[lxml_html.HtmlElement]) -> str | None:
    for link in links:
        if "canonical" in (link.get("rel") or "").lower().split():
            return link.get("href")
    return None


def _og_type(metas: list[lxml_html.HtmlElement]) -> str | None:
    for el in metas:
        if (el.get("property") or el.get("name") or "").strip().lower() == "og:type":
            return (el.get("content") or "").strip().lower() or None
    return None
