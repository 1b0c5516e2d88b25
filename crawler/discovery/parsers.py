"""Parsers that turn discovery sources into story links: feeds, sitemaps, listings, WP REST,
and the two documents that point to other sources (a home page's feed links, robots.txt).

Pure functions over bytes/text, so they are easy to test and safe on hostile input: XML is
parsed with entity resolution, DTD loading and network access off, so "billion laughs" and
external-entity documents are refused instead of expanded.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from lxml import etree
from lxml import html as lxml_html
from scrapy.utils.gz import gunzip

from crawler.extract.html import parse_html
from crawler.extract.metadata import to_iso

logger = logging.getLogger(__name__)

# Kinds of discovery source; each has its parser in PARSERS (the rest are HTML listings).
FEED, SITEMAP, LISTING, SEARCH, WP_API = "feed", "sitemap", "listing", "search", "wp-api"
HOME, ROBOTS = "home", "robots"
FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/feed+json",
    "application/json",
}


# Bytes XML 1.0 forbids, and the byte-order marks of encodings where they are letters' bytes.
_XML_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_WIDE_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# Where an XML document's DOCTYPE may start: after the XML declaration and a few comments.
_PROLOG_BYTES = 4096
ENTITIES_REFUSED = (
    "XML with entity declarations refused (entity expansion or external entity attack)"
)


class SourceError(ValueError):
    """A discovery document that cannot be used (malformed, hostile, wrong type)."""


@dataclass
class Link:
    url: str
    hints: dict[str, str] = field(default_factory=dict)  # title, published, modified


@dataclass
class Found:
    links: list[Link] = field(default_factory=list)
    follow: list[str] = field(default_factory=list)  # more of the same: child sitemaps, next pages
    sources: list[tuple[str, str]] = field(default_factory=list)  # (kind, url) of other sources


def _xml_root(body: bytes) -> etree._Element:
    """The root element of an XML source, refusing documents that declare or use entities.

    Legitimate feeds and sitemaps have no DTD. Entity declarations are how "billion laughs"
    and external-entity attacks (file:///etc/passwd, a URL) are built; the parser never
    resolves or fetches them anyway, but such a document is refused outright, with a reason
    that says why, rather than parsed into something half-empty.
    """
    if b"<!ENTITY" in _doctype(body):
        raise SourceError(ENTITIES_REFUSED)
    if not body.startswith(_WIDE_BOMS):
        # A stray control character (common in real feeds) would otherwise cost the whole
        # document; in UTF-8 and single-byte encodings these bytes are never part of a letter.
        body = _XML_CONTROLS.sub(b"", body)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
    )
    try:
        root = etree.fromstring(body.lstrip(), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(f"not well-formed XML: {exc}") from None
    if root is None:
        raise SourceError("empty XML document")
    if _has_entities(root):  # declarations the quick look at the DOCTYPE missed
        raise SourceError(ENTITIES_REFUSED)
    if any(isinstance(node, etree._Entity) for node in root.iter()):
        # Entities of an external DTD, which is never loaded: their text would be missing.
        raise SourceError("XML refers to entities of an external DTD (not loaded): refused")
    return root


def _doctype(body: bytes) -> bytes:
    """The DOCTYPE declaration (with its internal subset) of an XML document, or b"".

    It must come before the root element, so it is looked for only near the start; the
    internal subset ends at the first "]>" (an entity value may hide one, which the check
    after parsing still catches)."""
    start = body.find(b"<!DOCTYPE", 0, _PROLOG_BYTES)
    if start < 0:
        return b""
    end = body.find(b"]>", start)
    return body[start : end if end >= 0 else len(body)]


def _has_entities(root: etree._Element) -> bool:
    dtd = root.getroottree().docinfo.internalDTD
    return dtd is not None and any(True for _ in dtd.iterentities())


def _local(tag: object) -> str:
    return etree.QName(tag).localname.lower() if isinstance(tag, str) else ""


def _child_text(el: etree._Element, *names: str) -> str | None:
    for child in el:
        if _local(child.tag) in names and (child.text or "").strip():
            return child.text.strip()
    return None


def decompressed(body: bytes, max_size: int) -> bytes:
    """The body of a ``.xml.gz`` sitemap served as a file (not as a Content-Encoding, which
    the HTTP client already undid); other bodies as they are. SourceError past max_size,
    checked as it decompresses, so a gzip bomb costs no more memory than the limit."""
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        return gunzip(body, max_size=max_size)
    except ValueError:  # past max_size: a gzip bomb, or a sitemap far larger than any real one
        raise SourceError(
            f"gzip file larger than NEWSMON_SITEMAP_MAXSIZE ({max_size} bytes) once "
            "decompressed: not read"
        ) from None


def parse_feed(body: bytes, base_url: str) -> Found:
    """RSS 2.0, RSS 1.0 (RDF), Atom, or JSON Feed."""
    if body.lstrip()[:1] in (b"{", b"["):
        return _parse_json_feed(body, base_url)
    root = _xml_root(body)
    if _local(root.tag) not in ("rss", "feed", "rdf"):
        raise SourceError(f"not a feed (root element <{_local(root.tag)}>)")
    found = Found()
    for el in root.iter():
        kind = _local(el.tag)
        if kind == "item":
            url = _child_text(el, "link") or _child_text(el, "guid")
        elif kind == "entry":
            url = _atom_link(el)
        else:
            continue
        if url:
            found.links.append(Link(urljoin(base_url, url), _feed_hints(el)))
    return found


def _atom_link(entry: etree._Element) -> str | None:
    for child in entry:
        if _local(child.tag) == "link" and child.get("rel", "alternate") == "alternate":
            return child.get("href")
    return None


def _feed_hints(el: etree._Element) -> dict[str, str]:
    hints = {"title": _child_text(el, "title")}
    hints["published"] = to_iso(_child_text(el, "pubdate", "published", "date", "issued"))
    hints["modified"] = to_iso(_child_text(el, "updated", "modified"))
    hints["author"] = _child_text(el, "creator", "author") or _atom_author(el)
    return {k: v for k, v in hints.items() if v}


def _atom_author(entry: etree._Element) -> str | None:
    for child in entry:
        if _local(child.tag) == "author":
            return _child_text(child, "name")
    return None


def _parse_json_feed(body: bytes, base_url: str) -> Found:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise SourceError(f"not valid JSON: {exc}") from None
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise SourceError("not a JSON Feed (no items list)")
    found = Found()
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("url"), str):
            hints = {
                "title": item.get("title"),
                "published": to_iso(item.get("date_published")),
                "modified": to_iso(item.get("date_modified")),
            }
            found.links.append(
                Link(urljoin(base_url, item["url"]), {k: v for k, v in hints.items() if v})
            )
    return found


def parse_sitemap(body: bytes, base_url: str) -> Found:
    """A sitemap index (child sitemaps to follow) or a urlset, Google News tags included."""
    root = _xml_root(body)
    kind = _local(root.tag)
    found = Found()
    if kind == "sitemapindex":
        for sm in root:
            loc = _child_text(sm, "loc")
            if loc:
                found.follow.append(urljoin(base_url, loc))
    elif kind == "urlset":
        for entry in root:
            loc = _child_text(entry, "loc")
            if loc:
                found.links.append(Link(urljoin(base_url, loc), _sitemap_hints(entry)))
    else:
        raise SourceError(f"not a sitemap (root element <{kind}>)")
    return found


def _sitemap_hints(entry: etree._Element) -> dict[str, str]:
    hints = {"modified": to_iso(_child_text(entry, "lastmod"))}
    for child in entry:
        if _local(child.tag) == "news":
            hints["published"] = to_iso(_deep_text(child, "publication_date"))
            hints["title"] = _deep_text(child, "title")
    return {k: v for k, v in hints.items() if v}


def _deep_text(el: etree._Element, name: str) -> str | None:
    for child in el.iter():
        if _local(child.tag) == name and (child.text or "").strip():
            return child.text.strip()
    return None


def parse_listing(body: str | bytes, base_url: str) -> Found:
    """Every link on an HTML page (the caller filters story URLs) and its next page."""
    return _listing(parse_html(body), base_url)


def _listing(tree: lxml_html.HtmlElement, base_url: str) -> Found:
    found = Found()
    for a in tree.iter("a"):
        href = a.get("href")
        if href and not href.startswith(("javascript:", "mailto:", "#")):
            title = " ".join(a.text_content().split())
            found.links.append(Link(urljoin(base_url, href), {"title": title} if title else {}))
    nxt = _next_page(tree)
    if nxt:
        found.follow.append(urljoin(base_url, nxt))
    return found


def _next_page(tree: lxml_html.HtmlElement) -> str | None:
    for el in tree.iter("a", "link"):
        if "next" in (el.get("rel") or "").lower().split() and el.get("href"):
            return el.get("href")
    for a in tree.iter("a"):
        label = " ".join(a.text_content().split()).lower()
        if a.get("href") and label in {"next", "next page", "older posts", "›", "»", "next »"}:
            return a.get("href")
    return None


def parse_wp_posts(body: bytes, base_url: str) -> Found:
    """The WordPress REST API's posts list (``/wp-json/wp/v2/posts``)."""
    try:
        posts = json.loads(body)
    except ValueError as exc:
        raise SourceError(f"not valid JSON: {exc}") from None
    if not isinstance(posts, list):
        raise SourceError("not a WordPress posts list")
    found = Found()
    for post in posts:
        if not isinstance(post, dict) or not isinstance(post.get("link"), str):
            continue
        title = post.get("title", {})
        hints = {
            "title": title.get("rendered") if isinstance(title, dict) else None,
            "published": to_iso(_gmt(post.get("date_gmt"))),
            "modified": to_iso(_gmt(post.get("modified_gmt"))),
        }
        found.links.append(
            Link(urljoin(base_url, post["link"]), {k: v for k, v in hints.items() if v})
        )
    return found


def _gmt(value: object) -> str | None:
    # WordPress gives *_gmt fields without an offset; they are UTC by definition.
    return f"{value}+00:00" if isinstance(value, str) and value else None


def parse_home(body: str | bytes, base_url: str) -> Found:
    """A home page: a listing like any other, plus the feeds it announces with
    ``<link rel="alternate" type="application/rss+xml|atom+xml|feed+json">``."""
    tree = parse_html(body)
    found = _listing(tree, base_url)
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").split(";")[0].strip().lower()
        href = link.get("href")
        # WordPress also announces one comments feed per post: comments are not stories.
        if href and "alternate" in rel and kind in FEED_TYPES and not _comments(link):
            found.sources.append((FEED, urljoin(base_url, href)))
    return found


def _comments(link: lxml_html.HtmlElement) -> bool:
    return "comments" in (link.get("title") or "").lower() or "/comments/" in link.get("href", "")


def parse_robots(body: bytes, base_url: str) -> Found:
    """robots.txt: the sitemaps its ``Sitemap:`` lines name."""
    found = Found()
    for line in body.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "sitemap" and value.strip():
            found.sources.append((SITEMAP, urljoin(base_url, value.strip())))
    return found


Parser = Callable[[bytes, str], Found]
PARSERS: dict[str, Parser] = {
    FEED: parse_feed,
    SITEMAP: parse_sitemap,
    WP_API: parse_wp_posts,
    HOME: parse_home,
    ROBOTS: parse_robots,
}


def parser_for(kind: str) -> Parser:
    """The parser of a kind of source; listings and search result pages are HTML listings."""
    return PARSERS.get(kind, parse_listing)
