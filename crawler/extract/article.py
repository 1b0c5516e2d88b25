"""Extraction: a story page's HTML into title, author, dates, language and clean body text.

Metadata comes from JSON-LD / OpenGraph first, then the site's selectors. The body is taken
from the site's body container after its junk selectors are removed, or by the generic
extractor (trafilatura and friends, see ``crawler.extract.body``) on sites without rules.

This module imports no Scrapy: it is what the extraction pool's worker processes load
(``crawler.extract.pool``), and a worker should start small.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from crawler.dedup.fingerprints import Fingerprints, fingerprints
from crawler.extract.body import extract_body
from crawler.extract.html import parse_html
from crawler.extract.metadata import Metadata, page_metadata, to_iso

BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption")
_SPACE = re.compile(r"\s+")
# Lines that are boilerplate on any news site: kept short and anchored so prose never matches.
COMMON_JUNK = (
    r"^views?\s*:?\s*\d[\d,.\s]*$",
    r"^(liked the story\?\s*)?share (it|this)( on social media)?!?$",
    r"^follow us on \w+$",
    r"^leave a (reply|comment)$",
    r"^related (posts|tags|articles|stories)\s*:?$",
    r"^(read|see) (also|more)\s*:?$",
    r"^advertisement$",
)


@dataclass(frozen=True)
class SiteRules:
    """A site's extraction quirks, declared as data (CSS selectors, formats, patterns)."""

    title: str | None = None  # CSS selector of the headline
    published: str | None = None  # CSS selector of the visible publication date
    date_formats: tuple[str, ...] = ()  # strptime formats of that date text
    timezone: str | None = None  # IANA zone of naive dates, e.g. "Asia/Baku"
    author: str | None = None  # CSS selector of the author name
    author_pattern: str | None = None  # regex with (?P<author>...) over body paragraphs
    body: str | None = None  # CSS selector of the body container
    drop: tuple[str, ...] = ()  # CSS selectors removed before anything is extracted
    drop_text: tuple[str, ...] = ()  # regexes (case-insensitive) of junk paragraphs
    story: str | None = None  # CSS selector present on every story page
    language: str | None = None  # language when the page does not declare one


@dataclass
class Extracted:
    title: str = ""
    author: str | None = None
    published: str | None = None
    modified: str | None = None
    language: str | None = None
    description: str | None = None
    canonical: str | None = None
    text: str = ""
    is_story: bool = False
    paragraphs: list[str] = field(default_factory=list)
    fingerprints: Fingerprints | None = None  # set by extract_page, so workers compute them


def extract_article(
    html: str | bytes,
    url: str | None = None,
    rules: SiteRules | None = None,
    *,
    stories_only: bool = False,
) -> Extracted:
    """Extract one story page. Never raises on bad HTML: an empty result means "not a story".

    With ``stories_only``, a page that does not say it is a story gets only its metadata
    (``is_story`` False, no body): the body is the expensive part, and the caller would drop
    the page anyway.
    """
    rules = rules or SiteRules()
    tree = parse_html(html)
    md = page_metadata(tree, rules.timezone)
    is_story = _is_story(tree, rules, md)
    if stories_only and not is_story:
        return Extracted(title=md.title or "", language=md.language or rules.language)
    # The tree is ours alone: junk is removed in place, after everything that reads the
    # page as published (metadata, the story marker) has seen it.
    clean = _without(tree, rules.drop)
    paragraphs = _body_paragraphs(clean, rules, md, url)
    author = _site_author(clean, rules, paragraphs) or md.author
    junk = _junk_patterns(rules.drop_text)
    paragraphs = [p for p in paragraphs if not any(j.search(p) for j in junk)]
    return Extracted(
        title=_select_text(clean, rules.title) or md.title or "",
        author=author,
        published=_site_date(clean, rules) or md.published,
        modified=md.modified,
        language=md.language or rules.language,
        description=md.description,
        canonical=md.canonical,
        text="\n\n".join(paragraphs),
        is_story=is_story,
        paragraphs=paragraphs,
    )


def extract_page(html: str, url: str, rules: SiteRules | None, stories_only: bool) -> Extracted:
    """``extract_article`` as the pool runs it: the result without ``paragraphs``, which the
    pipeline does not use, so only half the text travels back between processes, and with the
    story's fingerprints, which cost as much CPU as extraction and so belong in the workers."""
    found = extract_article(html, url, rules, stories_only=stories_only)
    prints = fingerprints(found.title, found.text) if found.title and found.text else None
    return replace(found, paragraphs=[], fingerprints=prints)


# cssselect's XPath for ".name" tests every element with normalize-space() and concat(); a
# plain contains() in front rejects nearly all of them for a fraction of the cost (and is
# implied by the exact test, so matches are unchanged). Its descendant step
# "/descendant-or-self::*/" is what "//" abbreviates, but only "//" takes libxml2's fast path.
_CLASS_TEST = re.compile(
    r"@class and (contains\(concat\(' ', normalize-space\(@class\), ' '\), ' ([^' ]+) '\))"
)
_DESCENDANT_STEP = "/descendant-or-self::*/"


@lru_cache(maxsize=256)
def _selector(css: str) -> etree.XPath:
    """A CSS selector compiled once (translating it costs more than running it) into XPath
    that selects exactly what ``lxml.html``'s ``cssselect`` does, faster."""
    path = CSSSelector(css, translator="html").path
    path = _CLASS_TEST.sub(r"contains(@class, '\2') and \1", path)
    return etree.XPath(path.replace(_DESCENDANT_STEP, "//"))


@lru_cache(maxsize=64)
def _junk_patterns(drop_text: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p, re.I) for p in (*COMMON_JUNK, *drop_text))


def _select(tree: lxml_html.HtmlElement, css: str) -> list[lxml_html.HtmlElement]:
    return _selector(css)(tree)  # type: ignore[no-any-return]


def _without(tree: lxml_html.HtmlElement, selectors: tuple[str, ...]) -> lxml_html.HtmlElement:
    for sel in selectors:
        for el in _select(tree, sel):
            el.drop_tree()
    return tree


def _body_paragraphs(
    tree: lxml_html.HtmlElement, rules: SiteRules, md: Metadata, url: str | None
) -> list[str]:
    if rules.body:
        containers = _select(tree, rules.body)
        if containers:
            return [p for c in containers for p in block_texts(c)]
    # The tree is read again afterwards only by the site's title, date and author selectors.
    done_with_tree = not (rules.title or rules.published or rules.author)
    text = extract_body(tree, url, in_place=done_with_tree)
    if not text and md.body:
        text = md.body
    return [p for p in (_clean(t) for t in text.split("\n\n")) if p]


def block_texts(container: lxml_html.HtmlElement) -> list[str]:
    """Texts of the block elements under ``container`` in document order (innermost blocks
    only, so a <li> holding a <p> is not counted twice)."""
    out = []
    for el in container.iter(*BLOCKS):
        if next(el.iterdescendants(*BLOCKS), None) is not None:
            continue
        text = _clean(el.text_content())
        if text:
            out.append(text)
    return out


def _clean(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def _select_text(tree: lxml_html.HtmlElement, selector: str | None) -> str | None:
    if not selector:
        return None
    found = _select(tree, selector)
    return _clean(found[0].text_content()) or None if found else None


def _site_date(tree: lxml_html.HtmlElement, rules: SiteRules) -> str | None:
    text = _select_text(tree, rules.published)
    return to_iso(text, rules.timezone, rules.date_formats) if text else None


def _site_author(
    tree: lxml_html.HtmlElement, rules: SiteRules, paragraphs: list[str]
) -> str | None:
    if rules.author:
        return _select_text(tree, rules.author)
    if rules.author_pattern:
        pattern = re.compile(rules.author_pattern, re.I)
        for p in paragraphs[:5]:
            m = pattern.search(p)
            if m:
                return _clean(m.group("author"))
    return None


def _is_story(tree: lxml_html.HtmlElement, rules: SiteRules, md: Metadata) -> bool:
    if rules.story:
        return bool(_select(tree, rules.story))
    return md.is_article
