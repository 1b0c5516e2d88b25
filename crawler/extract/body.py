"""Generic article-body extraction for pages that have no site rules.

The pipeline (every step can be switched off with ``BodyOptions``, and
``bench/extraction.py`` keeps only what wins on cross-validation folds it was not tuned on;
no step is keyed to a site; the size limits and the link check guard against odd pages):

1. decode and parse the page robustly (``decode_html``, ``parse_html``);
2. on a private copy of the tree: drop scripts and styles, shrink absurdly large pages,
   rescue embedded social posts (tweets quoted in an article sit in "social" wrappers that
   trafilatura throws away) and drop widgets named as boilerplate (hover cards, share bars,
   newsletter boxes, related-article rails, promotions, cookie banners) unless they hold
   prose paragraphs;
3. run trafilatura in precision mode, which itself weighs its result against its readability
   and jusText ports; balanced mode as a rescue when precision finds next to nothing, and
   as a source of the article text precision mode cut when it kept only a small part of
   the page's paragraphs (kept when it sits with, or is styled like, the precision text);
4. clean the extracted blocks: the headline repeated at the top, lists made only of links,
   "Read also"/"Follow us"-style promotions, tag, source, credit and timestamp lines at the
   edges, and headings left with nothing under them;
5. give up ("") when what is left reads mostly as link text: a listing or a menu.

A site's own boilerplate (blocks its stories share) is removed later, with the site's
profile (``crawler.extract.site_profile``).
"""

from __future__ import annotations

import copy
import itertools
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeAlias

import lxml.html
import trafilatura
from lxml import etree

from crawler.extract.containers import BlockIndex, container, is_within, signature, text_key
from crawler.extract.html import parse_html

logger = logging.getLogger(__name__)

HtmlInput: TypeAlias = str | bytes | lxml.html.HtmlElement

# Below this many characters a precision-mode result is treated as a miss (trafilatura's own
# default minimum extraction size).
MIN_BODY_CHARS = 250

# Trafilatura's cost grows faster than linearly with the number of elements. News pages
# have a few thousand once scripts are gone (at most ~1,200 in the benchmark); past
# FAST_MODE_ELEMENTS the external-extractor comparison and the rescue pass are skipped, and
# a page is shrunk to MAX_ELEMENTS: navigation first, then everything after that many
# elements, where an article has long begun.
FAST_MODE_ELEMENTS = 10_000
MAX_ELEMENTS = 30_000

_NON_CONTENT_TAGS = ("script", "style", "noscript", "template", "svg")
# Not <form>: some sites wrap the whole page in one.
_CHROME_TAGS = ("nav", "aside", "footer", "select")

# Class/id fragments of widgets that are never part of an article body. Trafilatura already
# knows many of them; these are the ones it misses, hover cards above all (hidden pop-ups
# whose text lands in the middle of sentences) and promotion rails.
_BOILERPLATE_ATTR_RE = re.compile(
    r"(?:^|[\s_-])(?:tooltip|popover|hovercard|rollover|popup|modal|newsletter|subscribe|signup|"
    r"sign-up|cookie|consent|gdpr|related|read-?more|recommended|recirc|trending|outbrain|"
    r"taboola|promo|share|sharing|sharebar|social|author-bio|about-author|comment-form|respond)",
    re.IGNORECASE,
)
_NAMED_ELEMENTS_XPATH = etree.XPath(".//*[@class or @id]")

# A prose paragraph: long enough to be a paragraph of an article, not mostly a link.
_PROSE_CHARS = 150
_PROSE_MAX_LINKS = 0.3

_EMBED_CLASS_RE = re.compile(r"twitter-tweet|instagram-media|tiktok-embed", re.IGNORECASE)
_SOCIAL_WRAPPER_RE = re.compile(r"social|share|embed", re.IGNORECASE)

# Promotions and navigation that sit inside article containers: matched at the start of a
# short block only, and worded as labels or calls to action, so that sentences which merely
# mention these words survive.
_PROMO_RE = re.compile(
    r"^(?:related(?: articles?| stories| coverage| content)?\s*:|read (?:more|also|next)\b|"
    r"see (?:more|also)\s*:|also read\b|more\s*:|don'?t miss\b|you may also like|"
    r"recommended(?: for you| stories| articles| reading)?\s*(?::|$)|"
    r"follow (?:us|him|her|them|\w+) on\b|subscribe\b|sign up\b|"
    r"(?:copyright\s*)?(?:©|\(c\)\s*\d{4})|copyright\b[^.!?]*\d{4}|all rights reserved|"
    r"have a tip\b|tell us what you think|thanks for signing up|share (?:this|on)\b|"
    r"get the latest\b)",
    re.IGNORECASE,
)
_MAX_PROMO_CHARS = 300

# Metadata lines (tags, sources, credits, datelines, timestamps) that extractors leave at the
# edges of the body.
_META_RE = re.compile(
    r"^(?:(?:filed under|tags?|tagged(?: with)?|categories|category|posted in|sources?|authors?|"
    r"reading time|read time)\s*:|(?:additional )?reporting by\b|"
    r"(?:editing|written|edited|compiled) by\b|(?:last )?updated\b.*(?:\d|\bby\b)|"
    r"(?:published|posted)\b.*(?:\d|\bby\b))",
    re.IGNORECASE,
)
_TIMESTAMP_RE = re.compile(r"\d{1,2}:\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{4}-\d{2}-\d{2}")
_MAX_META_CHARS = 100
_EDGE_BLOCKS = 2

# A list is navigation when at least this share of its items is wholly a link.
_LINK_LIST_SHARE = 0.8


_BLOCK_TAGS = frozenset({"lb", "p", "item", "head", "quote", "row", "cell", "list", "table"})


@dataclass(frozen=True)
class BodyOptions:
    """The switches and thresholds of the body pipeline.

    The defaults are what the benchmark's cross-validation keeps (``bench/extraction.py``);
    the switches exist so that every step can be measured on pages it was not tuned on.
    """

    precision_first: bool = True  # trafilatura's precision mode, balanced mode as a rescue
    rescue_embeds: bool = True
    drop_widgets: bool = True  # elements whose class/id names them as boilerplate
    # A boilerplate-looking element holding this share of the page's paragraph text is more
    # likely a content wrapper with an unlucky class name ("modal-enabled", "entry-read-more").
    widget_share: float = 0.25
    drop_headline: bool = True
    drop_link_lists: bool = True
    drop_promos: bool = True
    drop_meta_edges: bool = True
    # When precision mode keeps less than ``recover_below`` of the page's paragraph text,
    # balanced mode's extra blocks are added if they sit in the container of the precision
    # blocks or are styled like them (``crawler.extract.containers``).
    recover: bool = True
    recover_below: float = 0.3
    # Boilerplate-named elements that hold more than this many prose paragraphs are kept.
    widget_max_prose: int = 1
    # A text that is mostly link text is a listing or a menu, not an article (the most
    # link-heavy article of the benchmark, a news digest, is 47% links).
    max_link_share: float = 0.8


DEFAULT_OPTIONS = BodyOptions()


@dataclass
class _Block:
    """One paragraph-level piece of extracted text."""

    kind: str  # "p", "head", "item" or "row"
    text: str
    group: int = -1  # index of the enclosing list or table, -1 for a standalone block
    is_link: bool = False


def extract_body(
    html: HtmlInput,
    url: str | None = None,
    options: BodyOptions = DEFAULT_OPTIONS,
    *,
    in_place: bool = False,
) -> str:
    """Return the article body of a page as plain text, "" when nothing article-like is found.

    Paragraphs (and headings inside the body) are separated by a blank line, whitespace inside
    a paragraph is collapsed to single spaces. ``html`` may be the raw bytes, the decoded text
    or an already-parsed tree; a given tree is not modified, unless ``in_place`` says the
    caller is done with it (a copy of a large page costs a few percent of the extraction).
    Never raises: a failure is logged and gives "".
    """
    return "\n\n".join(extract_blocks(html, url, options, in_place=in_place))


def extract_blocks(
    html: HtmlInput,
    url: str | None = None,
    options: BodyOptions = DEFAULT_OPTIONS,
    *,
    in_place: bool = False,
) -> list[str]:
    """``extract_body`` as a list of paragraph-level blocks."""
    try:
        if isinstance(html, lxml.html.HtmlElement):
            tree = html if in_place else copy.deepcopy(html)
        else:
            tree = parse_html(html)
        return _extract(tree, url, options)
    except Exception:
        # One odd page must never stop a crawl: log it with its traceback and move on.
        logger.warning("body extraction failed for %s", url, exc_info=True)
        return []


def _extract(tree: lxml.html.HtmlElement, url: str | None, options: BodyOptions) -> list[str]:
    titles = _title_keys(tree)
    etree.strip_elements(tree, *_NON_CONTENT_TAGS, with_tail=False)
    size = _shrink(tree, MAX_ELEMENTS)
    _drop_widgets(tree, options)
    fast = size > FAST_MODE_ELEMENTS
    modes = (True, False) if options.precision_first else (False,)
    found = _trafilatura_body(tree, url, modes, fast=fast)
    if found is None:
        return []
    body, precise = found
    anchors = _anchor_keys(tree)
    blocks = _blocks(body)
    if precise and options.recover and not fast:
        blocks = _recover(tree, url, blocks, options.recover_below, anchors)
    return _cleaned(blocks, titles, anchors, options, url)


def container_blocks(
    tree: lxml.html.HtmlElement,
    box: lxml.html.HtmlElement,
    url: str | None = None,
    options: BodyOptions = DEFAULT_OPTIONS,
    skip: Callable[[lxml.html.HtmlElement], bool] | None = None,
) -> list[str]:
    """The body pipeline without trafilatura, for a page whose article container is known
    (``crawler.extract.layouts``): the container's paragraph-level blocks (list items and
    table rows grouped as trafilatura groups them; those ``skip`` says are not the
    article's left out), its widgets dropped, cleaned as ``extract_blocks`` cleans.
    Modifies ``box``; no blocks when what is left reads as links."""
    titles = _title_keys(tree)
    # The container's links, not the whole page's (hundreds, in menus): a link elsewhere
    # rarely names a block of the body, and a layout is only used where it changes nothing.
    anchors = _anchor_keys(box)
    prepare_container(box, options)
    return _cleaned(_container_blocks(box, skip), titles, anchors, options, url)


def _cleaned(
    blocks: list[_Block], titles: set[str], anchors: set[str], options: BodyOptions, url: str | None
) -> list[str]:
    """The texts of ``blocks`` once cleaned (``_clean``); none when they read as links."""
    _mark_links(blocks, anchors)
    texts = [block.text for block in _clean(blocks, titles, options)]
    if _link_share("\n\n".join(texts), anchors) > options.max_link_share:
        logger.debug("no article on %s: the text found is mostly links", url)
        return []
    return texts


def prepare_container(box: lxml.html.HtmlElement, options: BodyOptions = DEFAULT_OPTIONS) -> None:
    """What ``container_blocks`` removes from a container before reading it (in place):
    scripts and styles, and widgets named as boilerplate."""
    etree.strip_elements(box, *_NON_CONTENT_TAGS, with_tail=False)
    _drop_widgets(box, options)


def _drop_widgets(tree: lxml.html.HtmlElement, options: BodyOptions) -> None:
    """Widgets named as boilerplate out of ``tree`` (a page or a part), embedded posts kept."""
    if options.rescue_embeds:
        _rescue_embeds(tree)
    if options.drop_widgets:
        _drop_boilerplate(tree, options.widget_share, options.widget_max_prose)


_CONTAINER_BLOCKS = (
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "blockquote", "pre", "tr", "dd", "dt",
)  # fmt: skip
_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})


def container_elements(
    box: lxml.html.HtmlElement,
) -> Iterator[tuple[lxml.html.HtmlElement, str]]:
    """The innermost paragraph-level elements of ``box`` that hold text, in page order,
    with their text (whitespace collapsed)."""
    for element in box.iter(*_CONTAINER_BLOCKS):
        if next(element.iterdescendants(*_CONTAINER_BLOCKS), None) is not None:
            continue
        text = _collapse(element.text_content())
        if text:
            yield element, text


def _container_blocks(
    box: lxml.html.HtmlElement, skip: Callable[[lxml.html.HtmlElement], bool] | None = None
) -> list[_Block]:
    blocks: list[_Block] = []
    groups: dict[lxml.html.HtmlElement, int] = {}
    for element, text in container_elements(box):
        if skip is not None and skip(element):
            continue
        tag = element.tag
        if tag in ("li", "tr"):
            group = groups.setdefault(element.getparent(), len(groups))
            blocks.append(_Block("item" if tag == "li" else "row", text, group))
        else:
            blocks.append(_Block("head" if tag in _HEADINGS else "p", text))
    return blocks


def _trafilatura_body(
    tree: lxml.html.HtmlElement,
    url: str | None,
    modes: tuple[bool, ...] = (True, False),
    fast: bool = False,
) -> tuple[etree._Element, bool] | None:
    """Run trafilatura in the given modes (favor_precision or not) until one finds a body of
    at least ``MIN_BODY_CHARS``; the longest body found otherwise. Returns the body and
    whether it came from precision mode."""
    best = None
    for favor_precision in modes if not fast else modes[:1]:
        body = _trafilatura_run(tree, url, favor_precision, fast)
        if body is None:
            continue
        length = len(" ".join(body.itertext()).strip())
        if best is None or length > best[0]:
            best = (length, body, favor_precision)
        if length >= MIN_BODY_CHARS:
            break
    return (best[1], best[2]) if best else None


def _trafilatura_run(
    tree: lxml.html.HtmlElement, url: str | None, favor_precision: bool, fast: bool = False
) -> etree._Element | None:
    document = trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        favor_precision=favor_precision,
        include_comments=False,
        include_tables=True,
        with_metadata=False,
    )
    return getattr(document, "body", None)


def _recover(
    tree: lxml.html.HtmlElement,
    url: str | None,
    blocks: list[_Block],
    below: float,
    anchors: set[str],
) -> list[_Block]:
    """Add the text precision mode cut from the article itself.

    Precision mode sometimes keeps a paragraph or two of a long article (templates that wrap
    every paragraph in its own box defeat its density tests). When it kept less than
    ``below`` of the page's paragraph text, balanced mode runs too, and its extra blocks are
    kept, in page order, when they sit in the container of the precision blocks or are
    styled like them and are not just the text of a link: text in another region of the
    page (rails, comments, other stories) and pointers to other pages stay out.
    """
    kept = sum(len(block.text) for block in blocks)
    if not blocks or kept >= below * _paragraph_chars(tree):
        return blocks
    balanced = _trafilatura_run(tree, url, favor_precision=False, fast=True)
    if balanced is None:
        return blocks
    candidates = _blocks(balanced)
    index = BlockIndex(tree, longest=max(len(b.text) for b in (*blocks, *candidates)))
    placed = [index.deepest(block.text) for block in blocks]
    found = [element for element in placed if element is not None]
    box = container(found)
    styles = {signature(element) for element in found}
    seen = {text_key(block.text) for block in blocks} | anchors
    extra: list[tuple[float, _Block]] = []
    for block in candidates:
        key = text_key(block.text)
        element = None if key in seen else index.deepest(block.text)
        if element is None:
            continue
        if (box is not None and is_within(element, box)) or signature(element) in styles:
            seen.add(key)
            extra.append((index.position(element), block))
    if not extra:
        return blocks
    logger.debug("recovered %d blocks that precision mode cut on %s", len(extra), url)
    ordered: list[tuple[float, _Block]] = []
    last = -1.0
    for block, element in zip(blocks, placed, strict=True):
        # Precision mode's order stands; a block found earlier in the page (a copy of it
        # there) or not found at all goes right after the one before it.
        found_at = index.position(element) if element is not None else last
        last = max(found_at, last + 0.001)
        ordered.append((last, block))
    return [block for _, block in sorted(ordered + extra, key=lambda item: item[0])]


# --- tree preparation -------------------------------------------------------------------


def _shrink(tree: lxml.html.HtmlElement, limit: int) -> int:
    """Bring the document down to ``limit`` elements; return the resulting size.

    Navigation, asides and footers go first; if that is not enough, the document is
    cut after its first ``limit`` elements.
    """
    size = _count_elements(tree)
    if size <= limit:
        return size
    etree.strip_elements(tree, *_CHROME_TAGS, with_tail=False)
    size = _count_elements(tree)
    if size <= limit:
        return size
    logger.info("page cut to its first %s elements", limit)
    last = next(itertools.islice(tree.iter(), limit, None))
    node = last
    while node.getparent() is not None:
        parent = node.getparent()
        for sibling in list(node.itersiblings()):
            parent.remove(sibling)
        node = parent
    last.getparent().remove(last)
    return limit


def _count_elements(tree: lxml.html.HtmlElement) -> int:
    return sum(1 for _ in tree.iter())


def _rescue_embeds(tree: lxml.html.HtmlElement) -> None:
    """Unmark the wrappers of embedded posts (tweets, Instagram) so they are kept.

    Articles quote such posts as evidence; their wrappers are usually named "social-embed"
    or similar, which trafilatura prunes as share widgets.
    """
    for quote in tree.iter("blockquote"):
        if not _EMBED_CLASS_RE.search(quote.get("class", "")):
            continue
        for ancestor in list(quote.iterancestors())[:3]:
            names = f"{ancestor.get('class', '')} {ancestor.get('id', '')}"
            if _SOCIAL_WRAPPER_RE.search(names):
                ancestor.attrib.pop("class", None)
                ancestor.attrib.pop("id", None)


def _paragraph_chars(element: lxml.html.HtmlElement) -> int:
    return sum(len(p.text_content()) for p in element.iter("p"))


def _drop_boilerplate(tree: lxml.html.HtmlElement, share: float = 0.25, max_prose: int = 1) -> None:
    """Remove widgets whose class or id says they are boilerplate, unless they hold a large
    part of the page's text (measured in paragraphs, and in all text for pages without) or
    more than ``max_prose`` prose paragraphs: widgets are short or made of links, and a
    class name such as "body-share-wrapper" may well wrap the article."""
    # On a whole page, the widgets of its <body>; on a part of a page, the part's.
    scope = tree.find("body") if tree.tag == "html" else tree
    if scope is None:
        return
    candidates = [
        element
        for element in _NAMED_ELEMENTS_XPATH(scope)
        if _BOILERPLATE_ATTR_RE.search(f"{element.get('class', '')} {element.get('id', '')}")
    ]
    if not candidates:
        return
    max_paragraphs = share * _paragraph_chars(tree)
    max_text = share * len(tree.text_content())
    root = tree.getroottree().getroot()
    for element in candidates:
        # An ancestor may already be gone: measuring again would only waste time.
        if element.getroottree().getroot() is not root:
            continue
        if (
            _paragraph_chars(element) <= max_paragraphs
            and len(element.text_content()) <= max_text
            and not _has_prose(element, max_prose)
        ):
            element.drop_tree()


def _has_prose(element: lxml.html.HtmlElement, more_than: int) -> bool:
    """Whether ``element`` holds more than ``more_than`` prose paragraphs: ``<p>`` of at
    least ``_PROSE_CHARS`` characters that are not mostly link text."""
    count = 0
    for paragraph in element.iter("p"):
        length = len(paragraph.text_content())
        if length < _PROSE_CHARS:
            continue
        links = sum(len(a.text_content()) for a in paragraph.iter("a"))
        if links < _PROSE_MAX_LINKS * length:
            count += 1
            if count > more_than:
                return True
    return False


# --- blocks ---------------------------------------------------------------------------


def _blocks(body: etree._Element) -> list[_Block]:
    """Flatten trafilatura's body into paragraph-level blocks, list items and table rows."""
    blocks: list[_Block] = []
    if body.text and body.text.strip():
        blocks.append(_Block("p", _collapse(body.text)))
    for index, element in enumerate(body):
        if element.tag == "list":
            blocks.extend(_Block("item", _text(item), index) for item in element.findall("item"))
        elif element.tag == "table":
            blocks.extend(_Block("row", _text(row), index) for row in element.findall("row"))
        else:
            blocks.append(_Block("head" if element.tag == "head" else "p", _text(element)))
        # Trafilatura sometimes leaves paragraph text as the tail of a heading.
        if element.tail and element.tail.strip():
            blocks.append(_Block("p", _collapse(element.tail)))
    return [block for block in blocks if block.text]


def _text(element: etree._Element) -> str:
    return _collapse("".join(_text_parts(element)))


def _text_parts(element: etree._Element) -> Iterator[str]:
    # Line breaks and nested blocks separate words even when the markup has no whitespace.
    if element.tag in _BLOCK_TAGS:
        yield " "
    if element.text:
        yield element.text
    for child in element:
        yield from _text_parts(child)
        if child.tail:
            yield child.tail


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _anchor_keys(tree: lxml.html.HtmlElement) -> set[str]:
    keys = {text_key(a.text_content()) for a in tree.iter("a")}
    keys.discard("")
    return keys


def _mark_links(blocks: list[_Block], anchors: set[str]) -> None:
    """Flag list items whose whole text is the text of one link of the page."""
    for block in blocks:
        if block.kind == "item" and text_key(block.text) in anchors:
            block.is_link = True


def _link_share(text: str, anchors: set[str]) -> float:
    """The share of ``text`` that reads as the text of links of the page."""
    padded = f" {text_key(text)} "
    if not padded.strip():
        return 0.0
    covered = bytearray(len(padded))
    words = set(padded.split())
    for anchor in anchors:
        # A page has hundreds of links, a text a few of them: most are out at a set lookup.
        if anchor.partition(" ")[0] not in words:
            continue
        # Padding with spaces matches whole words only: "section 1" is not in "section 10".
        needle = f" {anchor} "
        start = padded.find(needle)
        while start >= 0:
            covered[start : start + len(needle)] = b"\x01" * len(needle)
            start = padded.find(needle, start + 1)
    return covered.count(1) / len(padded)


def _title_keys(tree: lxml.html.HtmlElement) -> set[str]:
    """Comparison keys of the page's headline as given by <title>, Open Graph, Twitter, <h1>
    (one walk over the page)."""
    values: list[str] = []
    for element in tree.iter("title", "meta", "h1"):
        tag = element.tag
        if tag == "h1":
            values.append(element.text_content())
        elif tag == "title":
            parent = element.getparent()
            if parent is not None and parent.tag == "head" and element.text:
                values.append(element.text)
        elif element.get("property") == "og:title" or element.get("name") == "twitter:title":
            content = element.get("content")
            if content is not None:
                values.append(content)
    return {key for key in map(text_key, values) if key}


# --- cleaning -------------------------------------------------------------------------


def _clean(blocks: list[_Block], titles: set[str], options: BodyOptions) -> list[_Block]:
    """Drop the non-article blocks, then headings left with nothing under them."""
    drop: set[int] = set()
    if options.drop_headline:
        drop |= _headline_blocks(blocks, titles)
    if options.drop_link_lists:
        drop |= _link_lists(blocks)

    if options.drop_promos:
        drop |= _promo_blocks(blocks)
    if options.drop_meta_edges:
        drop |= _meta_blocks(blocks)
    kept = [block for index, block in enumerate(blocks) if index not in drop]
    while kept and kept[-1].kind == "head":
        kept.pop()
    return kept


def _headline_blocks(blocks: list[_Block], titles: set[str]) -> set[int]:
    """The headline repeated as the first block(s): it is the title, not the body."""
    found = set()
    for index, block in enumerate(blocks[:_EDGE_BLOCKS]):
        key = text_key(block.text)
        # A long-enough block inside a title catches "Headline | Site name" titles.
        if key and any(key == title or (len(key) > 20 and key in title) for title in titles):
            found.add(index)
    return found


def _link_lists(blocks: list[_Block]) -> set[int]:
    """Lists made of links only: related-article and navigation lists."""
    groups: dict[int, list[int]] = {}
    for index, block in enumerate(blocks):
        if block.kind == "item":
            groups.setdefault(block.group, []).append(index)
    found: set[int] = set()
    for members in groups.values():
        links = sum(blocks[index].is_link for index in members)
        if links >= _LINK_LIST_SHARE * len(members):
            found.update(members)
    return found


def _promo_blocks(blocks: list[_Block]) -> set[int]:
    return {
        index
        for index, block in enumerate(blocks)
        if len(block.text) <= _MAX_PROMO_CHARS and _PROMO_RE.search(block.text)
    }


def _meta_blocks(blocks: list[_Block]) -> set[int]:
    """Tag, source, credit and timestamp lines among the first and last blocks."""
    count = len(blocks)
    edges = set(range(min(_EDGE_BLOCKS, count))) | set(range(max(0, count - _EDGE_BLOCKS), count))
    return {index for index in edges if _is_meta(blocks[index].text)}


def _is_meta(text: str) -> bool:
    if len(text) > _MAX_META_CHARS:
        return False
    if _META_RE.search(text):
        return True
    return bool(_TIMESTAMP_RE.search(text)) and len(text.split()) <= 10
