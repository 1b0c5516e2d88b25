"""Where extracted text blocks sit in the page: the elements that hold them and the smallest
container around a set of them.

The body extractor uses this to recover text that a strict pass dropped: a paragraph in the
same container as paragraphs known to be the article, or styled exactly like them, is part
of the article too, whatever its words (a general rule: an article is one region of a page,
written with one template).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TypeAlias

import lxml.html

from crawler.dedup.normalize import ascii_words

_WORD_RE = re.compile(r"\w+")
_TEXT_TAGS = (
    "p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "td", "tr", "dd", "dt",
    "figcaption", "div", "section", "article", "span", "font", "center", "main",
)  # fmt: skip
_PARAGRAPH_TAGS = frozenset({"p", "li", "h2", "h3", "h4", "blockquote", "pre"})
_TOO_WIDE = frozenset({"html", "body"})
_SKIPPED = frozenset({"script", "style", "noscript", "template", "nav", "select"})

Element: TypeAlias = lxml.html.HtmlElement


def text_key(text: str) -> str:
    """A comparison key: lower-case words only (markup, spacing and punctuation ignored)."""
    if text.isascii():
        return b" ".join(ascii_words(text.lower())).decode("ascii")
    return " ".join(_WORD_RE.findall(text.lower()))


class BlockIndex:
    """The elements of a page by the comparison key of their text.

    With ``longest``, the length of the longest text that will be looked up, elements whose
    text is far longer (the page's wrappers, whose text is most of the page) are left out:
    they cannot hold one block only, and keying them is most of the cost on a deep page.
    """

    def __init__(self, tree: Element, longest: int | None = None) -> None:
        self._elements: dict[str, list[Element]] = {}
        self._positions: dict[Element, int] = {}
        # Markup whitespace (indentation) can make an element's raw text several times longer
        # than its collapsed words.
        limit = None if longest is None else 4 * longest + 1_000
        for position, element in enumerate(tree.iter(*_TEXT_TAGS)):
            text = element.text_content()
            if limit is not None and len(text) > limit:
                continue
            key = text_key(text)
            if key:
                self._elements.setdefault(key, []).append(element)
                self._positions[element] = position

    def position(self, element: Element) -> int:
        """Where an indexed element comes in the page (document order)."""
        return self._positions[element]

    def elements(self, text: str) -> list[Element]:
        """Every element whose whole text is ``text`` (outermost first)."""
        return self._elements.get(text_key(text), [])

    def deepest(self, text: str) -> Element | None:
        """The innermost element whose whole text is ``text``: the paragraph, not its
        wrappers. With several copies on the page, the first copy's."""
        found = self.elements(text)
        if not found:
            return None
        first = found[0]
        inner = [e for e in found if e is first or _is_inside(e, first)]
        return inner[-1]


def container(elements: Iterable[Element]) -> Element | None:
    """The smallest element holding all ``elements`` and at least two paragraphs; None when
    that is the whole page (the blocks are scattered: no container says anything)."""
    items = list(elements)
    if not items:
        return None
    common = _common_ancestor(items)
    while common is not None and _paragraphs(common) < 2:
        common = common.getparent()
    if common is None or common.tag in _TOO_WIDE:
        return None
    return common


def signature(element: Element) -> tuple[str, ...]:
    """How an element is styled in the template: its tag and class, and its parent's."""
    parent = element.getparent()
    outer = (parent.tag, parent.get("class", "")) if parent is not None else ("", "")
    return (str(element.tag), element.get("class", ""), *outer)


def is_within(element: Element, ancestor: Element) -> bool:
    """Whether ``element`` is ``ancestor`` or inside it."""
    return element is ancestor or _is_inside(element, ancestor)


def _is_inside(element: Element, ancestor: Element) -> bool:
    return any(node is ancestor for node in element.iterancestors())


def _common_ancestor(elements: list[Element]) -> Element | None:
    paths = [[*reversed(list(e.iterancestors())), e] for e in elements]
    common = None
    for nodes in zip(*paths, strict=False):
        if any(node is not nodes[0] for node in nodes):
            break
        common = nodes[0]
    return common


def _paragraphs(element: Element) -> int:
    count = 0
    for node in element.iter(*_PARAGRAPH_TAGS):
        if node.text_content().strip():
            count += 1
            if count >= 2:
                break
    return count


def following(element: Element) -> Iterator[Element]:
    """The elements after ``element`` in document order, outside it: its following
    siblings, then its parent's, and so on up the tree."""
    node: Element | None = element
    while node is not None:
        yield from node.itersiblings()
        node = node.getparent()


def text_after(element: Element, limit: int) -> str:
    """About ``limit`` characters of the text that follows ``element`` in the page (scripts
    and styles skipped), pieces separated by " | "."""
    pieces: list[str] = []
    total = 0
    for node in following(element):
        for text in _texts(node):
            text = " ".join(text.split())
            if text:
                pieces.append(text)
                total += len(text)
                if total >= limit:
                    return " | ".join(pieces)[: limit + 100]
    return " | ".join(pieces)


def _texts(node: Element) -> Iterator[str]:
    for element in node.iter():
        if isinstance(element.tag, str) and element.tag not in _SKIPPED and element.text:
            yield element.text
        if element.tail and element is not node:
            yield element.tail
