"""Generic article-body extraction for pages without site rules (draft)."""

from __future__ import annotations

import logging
import copy
import re
from dataclasses import dataclass

import lxml.html
import trafilatura
from lxml import etree

logger = logging.getLogger(__name__)

KNOBS: dict[str, object] = {
    "precision": True,
    "link_lists": True,
    "title": True,
    "phrases": True,
    "trailing_heads": True,
    "fast": False,
    "preclean": True,
    "embeds": True,
    "guard": 0.25,
}

_BOILER_ATTR_RE = re.compile(
    r"(?:^|[\s_-])(?:tooltip|popover|hovercard|rollover|popup|modal|newsletter|subscribe|signup|sign-up|"
    r"cookie|consent|gdpr|related|read-?more|readmore|recommended|recirc|trending|outbrain|taboola|"
    r"share|sharing|sharebar|social|author-bio|about-author|comment-form|respond)",
    re.IGNORECASE,
)
_EMBED_RE = re.compile(r"twitter-tweet|instagram-media|tiktok-embed", re.IGNORECASE)


def _rescue_embeds(tree) -> None:
    for q in tree.iter("blockquote"):
        if not _EMBED_RE.search(q.get("class", "")):
            continue
        for anc in list(q.iterancestors())[:3]:
            attrs = f"{anc.get('class', '')} {anc.get('id', '')}"
            if re.search(r"social|share|embed", attrs, re.IGNORECASE):
                anc.attrib.pop("class", None)
                anc.attrib.pop("id", None)


def _ptext(el) -> int:
    return sum(len(p.text_content()) for p in el.iter("p"))


def _preclean(tree) -> None:
    total = _ptext(tree) or 1
    doomed = []
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in ("html", "body"):
            continue
        attrs = f"{el.get('class', '')} {el.get('id', '')}"
        if attrs.strip() and _BOILER_ATTR_RE.search(attrs):
            doomed.append(el)
    for el in doomed:
        if el.getparent() is None:
            continue
        if _ptext(el) > KNOBS["guard"] * total:
            continue
        el.drop_tree()


@dataclass
class Block:
    kind: str
    text: str
    link_chars: int
    group: int  # index of the enclosing list/table, -1 for plain blocks

    @property
    def link_ratio(self) -> float:
        return self.link_chars / len(self.text) if self.text else 0.0


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _collect(el: etree._Element, parts: list[str], links: list[int], in_link: bool) -> None:
    if el.tag in ("lb", "p", "item", "head", "quote", "row", "cell"):
        parts.append(" ")
    is_link = in_link or el.tag == "ref"
    if el.text:
        parts.append(el.text)
        if is_link:
            links.append(len(el.text.strip()))
    for child in el:
        _collect(child, parts, links, is_link)
        if child.tail:
            parts.append(child.tail)
            if is_link:
                links.append(len(child.tail.strip()))


def _block(el: etree._Element, kind: str, group: int) -> Block:
    parts: list[str] = []
    links: list[int] = []
    _collect(el, parts, links, False)
    return Block(kind, _collapse("".join(parts)), sum(links), group)


def _blocks(body: etree._Element) -> list[Block]:
    out: list[Block] = []
    if body.text and body.text.strip():
        out.append(Block("p", _collapse(body.text), 0, -1))
    for i, el in enumerate(body):
        if el.tag == "list":
            items = el.findall("item")
            out.extend(_block(it, "item", i) for it in items)
        elif el.tag == "table":
            out.extend(_block(row, "row", i) for row in el.iter("row"))
        else:
            out.append(_block(el, "head" if el.tag == "head" else "p", -1))
        if el.tail and el.tail.strip():
            out.append(Block("p", _collapse(el.tail), 0, -1))
    return [b for b in out if b.text]


def parse_html(html: str | bytes) -> lxml.html.HtmlElement | None:
    tree = trafilatura.load_html(html)
    return tree


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def _titles(tree: lxml.html.HtmlElement) -> set[str]:
    found = set()
    for xp in (
        "//head/title/text()",
        "//meta[@property='og:title']/@content",
        "//meta[@name='twitter:title']/@content",
        "//h1",
    ):
        for v in tree.xpath(xp):
            t = v.text_content() if hasattr(v, "text_content") else str(v)
            n = _norm(t)
            if n:
                found.add(n)
    return found


def _anchors(tree) -> set[str]:
    out = set()
    for a in tree.iter("a"):
        n = _norm(a.text_content())
        if n:
            out.add(n)
    return out


def _is_title(text: str, titles: set[str]) -> bool:
    n = _norm(text)
    if not n:
        return False
    return any(n == t or (len(n) > 20 and n in t) for t in titles)


_BOILER_RE = re.compile(
    r"^(?:related(?: articles?| stories| coverage| content)?\s*:|read (?:more|also|next)\b|see (?:more|also)\s*:|"
    r"also read\b|more\s*:|don'?t miss\b|you may also like|recommended\b|"
    r"follow (?:us|him|her|them|\w+) on\b|subscribe\b|sign up\b|click here\b|"
    r"copyright\b|©|all rights reserved|have a tip\b|tell us what you think|thanks for signing up|"
    r"share (?:this|on)\b|get the latest\b)",
    re.IGNORECASE,
)


def _filter(blocks: list[Block], titles: set[str]) -> list[Block]:
    keep = [True] * len(blocks)
    if KNOBS["title"]:
        for i, b in enumerate(blocks[:2]):
            if _is_title(b.text, titles):
                keep[i] = False
    if KNOBS["link_lists"]:
        groups: dict[int, list[int]] = {}
        for i, b in enumerate(blocks):
            if b.group >= 0 and b.kind == "item":
                groups.setdefault(b.group, []).append(i)
        for idx in groups.values():
            linky = sum(blocks[i].link_ratio >= 0.8 for i in idx)
            if linky >= 0.8 * len(idx):
                for i in idx:
                    keep[i] = False
    if KNOBS["phrases"]:
        for i, b in enumerate(blocks):
            if len(b.text) < 300 and _BOILER_RE.search(b.text):
                keep[i] = False
    out = [b for b, k in zip(blocks, keep, strict=True) if k]
    if KNOBS["trailing_heads"]:
        while out and out[-1].kind == "head":
            out.pop()
    return out


def extract_body(html: str | bytes | lxml.html.HtmlElement, url: str | None = None) -> str:
    try:
        tree = html if isinstance(html, lxml.html.HtmlElement) else parse_html(html)
        if tree is None:
            return ""
        tree = copy.deepcopy(tree)
        if KNOBS["embeds"]:
            _rescue_embeds(tree)
        if KNOBS["preclean"]:
            _preclean(tree)
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,
            favor_precision=bool(KNOBS["precision"]),
            fast=bool(KNOBS["fast"]),
        )
        if doc is None or doc.body is None:
            return ""
        anchors = _anchors(tree)
        blocks = _blocks(doc.body)
        for b in blocks:
            n = _norm(b.text)
            if n in anchors:
                b.link_chars = len(b.text)
        blocks = _filter(blocks, _titles(tree))
        return "\n\n".join(b.text for b in blocks)
    except Exception:
        logger.warning("extraction failed for %s", url, exc_info=True)
        return ""
