"""Extraction: a story page's HTML into title, author, dates, language and clean body text.

A site's rules are hints, not gates: field by field (story container, title, author, date,
body), the site's selectors are tried first, and whatever they miss comes from the generic
path: JSON-LD, OpenGraph and meta tags (``crawler.extract.metadata``), the generic body
extractor (trafilatura and friends, ``crawler.extract.body``). The result says which fields
fell back (``fallbacks``) and whether the rules matched the page fully, partly or not at all
(``rules_matched``), which is how a site that changed its theme is noticed. The site's junk
selectors and junk lines apply to either body.

This module imports no Scrapy: it is what the extraction pool's worker processes load
(``crawler.extract.pool``), and a worker should start small.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING

from lxml import etree
from lxml import html as lxml_html
from lxml.cssselect import CSSSelector

from crawler.dedup.fingerprints import Fingerprints, fingerprints
from crawler.extract import layouts
from crawler.extract.body import container_blocks, container_elements, extract_blocks
from crawler.extract.containers import text_key
from crawler.extract.datelines import find_dateline
from crawler.extract.dates import fallback_date
from crawler.extract.html import decode_html, inflated, parse_html
from crawler.extract.metadata import ARTICLE_TYPES, Metadata, page_metadata, to_iso
from crawler.extract.site_profile import SiteProfile, block_hash

if TYPE_CHECKING:
    from crawler.story import Page

# A body read through the site's layout shorter than this is taken from the generic extractor
# instead (twice trafilatura's minimum extraction size): the page may not be a usual story.
MIN_LAYOUT_CHARS = 500
# The fields site rules may declare, in the order they are reported.
FIELDS = ("container", "title", "author", "date", "body")
FULL, PARTIAL, NONE = "full", "partial", "none"
# schema.org types of a page that is not a story (a story's graph has an article type too).
WEB_PAGE_TYPES = {
    "WebPage", "AboutPage", "ContactPage", "CollectionPage", "ProfilePage", "FAQPage",
    "SearchResultsPage", "ItemPage", "CheckoutPage", "QAPage", "MedicalWebPage",
}  # fmt: skip
BLOCKS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "figcaption")
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

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields these rules have a selector (or pattern) for."""
        declared = {
            "container": self.story,
            "title": self.title,
            "author": self.author or self.author_pattern,
            "date": self.published,
            "body": self.body,
        }
        return tuple(name for name in FIELDS if declared[name])


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
    is_story: bool = False  # the story container matched, or the page declares an article
    in_container: bool = False  # the site's story container matched
    page_type: str | None = None  # what the page declares itself: "article", og:type, or None
    fallbacks: tuple[str, ...] = ()  # fields the site's rules declare but missed on this page
    rules_matched: str = ""  # full, partial, none; "" when the site has no rules
    paragraphs: list[str] = field(default_factory=list)
    fingerprints: Fingerprints | None = None  # set by extract_page, so workers compute them
    # What a site profile learns from (SiteProfile.observe): the page's <title> as written
    # and the hash of every body block before the profile removed the site's boilerplate.
    raw_title: str | None = None
    block_hashes: list[str] = field(default_factory=list)
    boilerplate: list[str] = field(default_factory=list)  # blocks the profile removed
    # The site's layout (``crawler.extract.layouts``): whether the body was read through it,
    # and what the page taught when it was extracted both ways (the layout that gives its
    # generic body, "" for none), None when it was not.
    layout_used: bool = False
    layout_learned: str | None = None
    page_bytes: int = 0  # the fetched page's size once decompressed (extract_page)


def extract_article(
    html: str | bytes,
    url: str | None = None,
    rules: SiteRules | None = None,
    *,
    stories_only: bool = False,
    profile: SiteProfile | None = None,
    layout: str | None = None,
    learn: bool = False,
) -> Extracted:
    """Extract one story page. Never raises on bad HTML: an empty result means "not a story".

    With ``stories_only``, a page that does not say it is a story gets only its metadata
    (``is_story`` False, no body): the body is the expensive part, and the caller would drop
    the page anyway. With the site's ``profile``, the site's learned boilerplate blocks and
    title affixes are removed (``crawler.extract.site_profile``); recording the story in the
    profile is the caller's (``profile.observe(url, found.raw_title, found.block_hashes)``).
    """
    rules = rules or SiteRules()
    text = decode_html(html) if isinstance(html, bytes) else html
    tree = parse_html(text)
    affixes = profile.title_affixes() if profile is not None else ()
    md = page_metadata(tree, rules.timezone, url=url, title_affixes=affixes, date_fallback=False)
    found: dict[str, bool] = {}
    found["container"] = bool(rules.story and _select(tree, rules.story))
    is_story = found["container"] or md.is_article
    page_type = _page_type(md)
    if stories_only and not is_story:
        return Extracted(
            title=md.title or "",
            language=md.language or rules.language,
            page_type=page_type,
            fallbacks=("container",) if rules.story else (),
        )
    # The tree is ours alone: junk is removed in place, after everything that reads the
    # page as published (metadata, the story marker) has seen it.
    clean = _without(tree, rules.drop)
    body = _body_paragraphs(clean, rules, md, url, layout, learn, text)
    paragraphs, found["body"] = body.paragraphs, body.by_rules
    site_author = _site_author(clean, rules, paragraphs)
    junk = _junk_patterns(rules.drop_text)
    paragraphs = [p for p in paragraphs if not any(j.search(p) for j in junk)]
    hashes = [block_hash(p) for p in paragraphs]
    removed: list[str] = []
    if profile is not None:
        kept = profile.clean(paragraphs, url, hashes)
        removed = [p for p in paragraphs if p not in kept]
        paragraphs = kept
    site_title = _select_text(clean, rules.title)
    site_date = _site_date(clean, rules)
    found.update(title=bool(site_title), author=bool(site_author), date=bool(site_date))
    fallbacks = tuple(name for name in rules.fields if not found[name])
    published = site_date or md.published
    if published is None:
        published = fallback_date(text, url, rules.timezone)
    return Extracted(
        title=site_title or md.title or "",
        author=site_author or md.author,
        published=published,
        modified=md.modified,
        language=md.language or rules.language,
        description=md.description,
        canonical=md.canonical,
        text="\n\n".join(paragraphs),
        is_story=is_story,
        in_container=found["container"],
        page_type=page_type,
        fallbacks=fallbacks,
        rules_matched=_matched(rules.fields, fallbacks),
        paragraphs=paragraphs,
        raw_title=md.raw_title,
        block_hashes=hashes,
        boilerplate=removed,
        layout_used=body.by_layout,
        layout_learned=body.learned,
    )


def _matched(declared: tuple[str, ...], fallbacks: tuple[str, ...]) -> str:
    """How well the rules fit the page: every declared field, some, or none of them."""
    if not declared:
        return ""
    if not fallbacks:
        return FULL
    return NONE if len(fallbacks) == len(declared) else PARTIAL


def _page_type(md: Metadata) -> str | None:
    """What the page says it is: "article" (a JSON-LD article type, else og:type=article),
    "webpage" (JSON-LD that describes the page with no article type, as SEO plugins mark
    static pages, whatever their og:type says), another og:type ("website", "profile"...), or
    None when it says nothing."""
    if md.ld_types & ARTICLE_TYPES:
        return "article"
    if md.ld_types & WEB_PAGE_TYPES:
        return "webpage"
    if md.is_article:
        return "article"
    return md.og_type


def extract_page(
    page: str | Page,
    url: str,
    rules: SiteRules | None,
    stories_only: bool,
    profile: SiteProfile | None = None,
    layout: str | None = None,
    learn: bool = False,
) -> Extracted:
    """``extract_article`` as the pool runs it, on a page's text or on the page as fetched
    (decompressed and decoded here, in the worker, not on the reactor's thread; PageError when
    it cannot be read). The result comes without ``paragraphs``, which the pipeline does not
    use, so only half the text travels back between processes, and with the story's
    fingerprints, which cost as much CPU as extraction and so belong in the workers."""
    size = 0
    if isinstance(page, str):
        html = page
    else:
        body = inflated(page)
        html, size = decode_html(body, page.content_type), len(body)
    found = extract_article(
        html, url, rules, stories_only=stories_only, profile=profile, layout=layout, learn=learn
    )
    prints = fingerprints(found.title, found.text) if found.title and found.text else None
    return replace(found, paragraphs=[], fingerprints=prints, page_bytes=size)


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
    """``tree`` with what each selector selects removed, selector after selector. Selectors
    that name a tag alone ("script", "form"), one after another, are removed in one walk over
    the page: each walk costs about as much as the whole of some pages' extraction steps."""
    tags: list[str] = []
    for sel in (*selectors, ""):
        if _TAG_ONLY.fullmatch(sel):
            tags.append(sel.lower())
            continue
        if tags:
            for el in list(tree.iter(*tags)):
                el.drop_tree()
            tags = []
        if sel:
            for el in _select(tree, sel):
                el.drop_tree()
    return tree


_TAG_ONLY = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@dataclass
class _Body:
    paragraphs: list[str]
    by_rules: bool = False  # the site's body selector gave them
    by_layout: bool = False  # the site's learned layout gave them
    learned: str | None = None  # see Extracted.layout_learned


def _body_paragraphs(
    tree: lxml_html.HtmlElement,
    rules: SiteRules,
    md: Metadata,
    url: str | None,
    layout: str | None = None,
    learn: bool = False,
    page: str = "",
) -> _Body:
    """The body's paragraphs: from the site's body selector, else from the site's layout,
    else from the generic extractor (learning the page's layout when asked to, or when the
    layout's element is missing)."""
    if rules.body:
        paragraphs = [p for c in _select(tree, rules.body) for p in block_texts(c)]
        if paragraphs:
            return _Body(paragraphs, by_rules=True)
    # The tree is read again afterwards only by the site's title, date and author selectors.
    done_with_tree = not (rules.title or rules.published or rules.author)
    if layout is not None and not learn:
        box = layouts.find(tree, layout)
        if box is None:
            learn = True  # the generic extractor decides, and the page says what its layout is
        else:
            texts = container_blocks(
                tree,
                box if done_with_tree else copy.deepcopy(box),
                url,
                skip=layouts.skipper(layout),
            )
            paragraphs = [p for p in map(_clean, texts) if p]
            if sum(map(len, paragraphs)) >= MIN_LAYOUT_CHARS:
                return _Body(paragraphs, by_layout=True)
            # Next to nothing in the element: a brief, a gallery, a video, or a teaser with
            # the story elsewhere. This page gets the generic extractor, the layout stays.
            if done_with_tree and page:
                tree = _without(parse_html(page), rules.drop)  # the element was read in place
    blocks = extract_blocks(tree, url, in_place=done_with_tree)
    learned = _learn_layout(tree, blocks, rules, url, page, layout) if learn else None
    if not blocks and md.body:
        blocks = md.body.split("\n\n")
    return _Body([p for p in map(_clean, blocks) if p], learned=learned)


def _learn_layout(
    tree: lxml_html.HtmlElement,
    blocks: list[str],
    rules: SiteRules,
    url: str | None,
    page: str,
    candidate: str | None = None,
) -> str:
    """The layout that gives exactly ``blocks`` (the generic extractor's body) on a fresh
    parse of the page: ``candidate`` (the site's) when it does, else the one this page
    teaches; "" when there is none."""
    if not blocks or not page:
        return ""
    if candidate and _reads(page, candidate, rules, url) == blocks:
        return candidate
    found = layouts.locate(tree, blocks)
    if found is None:
        return ""
    layout = layouts.describe(found)
    fresh, box = _fresh_element(page, layout, rules)
    if box is None:
        return ""
    if container_blocks(fresh, box, url) == blocks:
        return layout
    # The element holds paragraphs the generic extractor left out: a layout when they are
    # styled unlike every paragraph it kept (the box is as container_blocks left it).
    wanted = {text_key(text) for text in blocks}
    kept: set[str] = set()
    other: set[str] = set()
    for element, text in container_elements(box):
        (kept if text_key(text) in wanted else other).add(layouts.style(element))
    if not other or other & kept:
        return ""
    layout = layouts.compose(layout, other)
    return layout if _reads(page, layout, rules, url) == blocks else ""


def _reads(page: str, layout: str, rules: SiteRules, url: str | None) -> list[str] | None:
    """The body ``layout`` gives on a fresh parse of the page; None without its element."""
    fresh, box = _fresh_element(page, layout, rules)
    if box is None:
        return None
    return container_blocks(fresh, box, url, skip=layouts.skipper(layout))


def _fresh_element(
    page: str, layout: str, rules: SiteRules
) -> tuple[lxml_html.HtmlElement, lxml_html.HtmlElement | None]:
    """The page parsed again, as the layout path sees it (the site's junk removed), and the
    element ``layout`` names in it."""
    fresh = _without(parse_html(page), rules.drop)
    return fresh, layouts.find(fresh, layout)


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
    return " ".join(text.split())


def _select_text(tree: lxml_html.HtmlElement, selector: str | None) -> str | None:
    if not selector:
        return None
    found = _select(tree, selector)
    return _clean(found[0].text_content()) or None if found else None


def _site_date(tree: lxml_html.HtmlElement, rules: SiteRules) -> str | None:
    """The date in the site's date element: in one of the site's formats, else as a dateline
    in any language newsmon knows (a site's other editions write their month names in their
    own language: "28 октября 2025 10:06"), in the site's time zone."""
    text = _select_text(tree, rules.published)
    if not text:
        return None
    found = to_iso(text, rules.timezone, rules.date_formats)
    if found is None and (dateline := find_dateline(text)) is not None:
        found = to_iso(dateline.isoformat(), rules.timezone)
    return found


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
