"""Extraction: a story page's HTML into title, author, dates, language and clean body text.

Metadata comes from JSON-LD / OpenGraph first, then the site's selectors. The body is taken
from the site's body container after its junk selectors are removed, or by the generic
extractor (trafilatura and friends, see ``crawler.extraction``) on sites without rules.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from lxml import html as lxml_html
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from crawler.extraction import extract_body, parse_html
from crawler.items import Story
from pipelines.metadata import Metadata, page_metadata, to_iso

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


def extract_article(html: str | bytes, url: str | None = None, rules: SiteRules | None = None) -> Extracted:
    """Extract one story page. Never raises on bad HTML: an empty result means "not a story"."""
    rules = rules or SiteRules()
    tree = parse_html(html)
    md = page_metadata(tree, rules.timezone)
    clean = _without(tree, rules.drop)
    paragraphs = _body_paragraphs(clean, rules, md, url)
    junk = [re.compile(p, re.I) for p in (*COMMON_JUNK, *rules.drop_text)]
    author = _site_author(clean, rules, paragraphs) or md.author
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
        is_story=_is_story(tree, rules, md),
        paragraphs=paragraphs,
    )


def _without(tree: lxml_html.HtmlElement, selectors: tuple[str, ...]) -> lxml_html.HtmlElement:
    if not selectors:
        return tree
    clean = copy.deepcopy(tree)
    for sel in selectors:
        for el in clean.cssselect(sel):
            el.drop_tree()
    return clean


def _body_paragraphs(
    tree: lxml_html.HtmlElement, rules: SiteRules, md: Metadata, url: str | None
) -> list[str]:
    if rules.body:
        containers = tree.cssselect(rules.body)
        if containers:
            return [p for c in containers for p in block_texts(c)]
    text = extract_body(tree, url)
    if not text and md.body:
        text = md.body
    return [p for p in (_clean(t) for t in text.split("\n\n")) if p]


def block_texts(container: lxml_html.HtmlElement) -> list[str]:
    """Texts of the block elements under ``container`` in document order (innermost blocks
    only, so a <li> holding a <p> is not counted twice)."""
    out = []
    for el in container.iter(*BLOCKS):
        if any(child.tag in BLOCKS for child in el.iterdescendants()):
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
    found = tree.cssselect(selector)
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
        return bool(tree.cssselect(rules.story))
    return md.is_article


class ExtractPipeline:
    """Turns a fetched page into story fields; drops pages that are not stories."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        return cls(crawler)

    def process_item(self, item: Story) -> Story:
        if item.not_modified:
            return item
        spider = self.crawler.spider
        rules = getattr(spider, "rules", None)
        found = extract_article(item.html, item.url, rules)
        item.html = ""  # the page is not needed past this point; keep memory flat
        if not found.title or not found.text:
            raise DropItem(f"not a story (no title or body): {item.url}", log_level="INFO")
        if not found.is_story and not getattr(spider, "trust_pattern", False):
            raise DropItem(
                f"not a story (the page does not say it is an article): {item.url}", log_level="INFO"
            )
        item.title, item.text = found.title, found.text
        item.author = found.author or item.hints.get("author")
        item.published = found.published or item.hints.get("published")
        item.modified = found.modified
        item.language = found.language or item.hints.get("language")
        item.description = found.description
        if found.canonical:
            item.hints["canonical"] = found.canonical
        return item
