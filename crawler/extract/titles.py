"""The headline of a story page, as readers see it.

The visible headline is the ``<h1>`` (or, on pages without one that agrees, another heading)
whose words agree with what the page's metadata calls its title (JSON-LD ``headline``,
og:title, twitter:title, ``<title>``). Without such a heading the metadata title is used,
with the site's name cut off: ``Headline | Site``, ``Site - Headline``, ``Headline - Site |
28.04.2023``. A part "names the site" when it is the og:site_name, the publisher's or web
site's name in JSON-LD, the application name, a form of the host name (``Golem.de``,
``DW`` on dw.com), or an affix learned from the site's other titles (``site_profile``).
Entities are decoded, twice-encoded ones too (``&amp;quot;``, ``zerst&ouml;ren`` in meta
content).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml import html as lxml_html

from crawler.extract.jsonld import ORGANIZATION_TYPES, text_value, types_of

# Separators between a headline and the site's name; spaces around them are required so
# that hyphenated words and "10-2" scores are never split.
SEPARATORS = (
    " | ", " - ", " – ", " — ", " :: ", " · ", " • ", " » ", " « ", " › ", " ‹ ", " / ", " ~ ",
)  # fmt: skip
_SEPARATOR_RE = re.compile("|".join(re.escape(s) for s in SEPARATORS))
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_WORD_RE = re.compile(r"\w+")
_NON_ALNUM_RE = re.compile(r"[\W_]+")
# A part that is only a date or a number ("28.04.2023", "2023") says nothing about the story.
_DATE_PART_RE = re.compile(r"^[\d\s./:-]+$")
_HEADING_TAGS = ("h1", "h2")
# Two titles agree when this share of their words (Dice coefficient) is common to both; an
# <h1> of at least _HEADLINE_WORDS words that shares REWORDED_AGREEMENT of them with the
# metadata title is the visible headline the SEO title rewords.
AGREEMENT = 0.6
REWORDED_AGREEMENT = 0.25
_HEADLINE_WORDS = 4
_MAX_HEADLINE_CHARS = 400
_NAME_SLACK = 7
_GENERIC_HOST_LABELS = frozenset({"www", "m", "amp", "mobile", "news", "com", "org", "net"})


@dataclass(frozen=True)
class Headline:
    """The chosen title and, when it is a heading of the page, that element."""

    text: str
    element: lxml_html.HtmlElement | None = None
    source: str = ""


def decode_entities(text: str) -> str:
    """``text`` with character references decoded, including references that were encoded
    twice (``&amp;quot;`` gives ``"``); text without references is returned unchanged."""
    for _ in range(3):
        if not _ENTITY_RE.search(text):
            break
        text = _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), text)
    return text


def clean_title(text: str | None) -> str:
    """One line of decoded text."""
    return " ".join(decode_entities(text or "").split())


def site_names(
    objects: list[dict[str, Any]], meta: dict[str, list[str]], url: str | None
) -> set[str]:
    """Names by which the page names its site: og:site_name, application-name, the JSON-LD
    publisher, WebSite and Organization names, and the host name."""
    names: set[str] = set()
    for key in ("og:site_name", "application-name", "apple-mobile-web-app-title", "publisher"):
        names.update(clean_title(v) for v in meta.get(key, ()))
    for obj in objects:
        if types_of(obj) & ORGANIZATION_TYPES:
            names.add(clean_title(text_value(obj.get("name"))))
        publisher = obj.get("publisher")
        if isinstance(publisher, dict):
            names.add(clean_title(text_value(publisher.get("name"))))
    host = urlsplit(url or "").hostname or ""
    if host:
        names.add(host.removeprefix("www."))
    names.discard("")
    return names


def names_site(part: str, names: Iterable[str], url: str | None = None) -> bool:
    """Whether a title part names the site (see the module docstring)."""
    key = _squash(part)
    if not key:
        return False
    host = (urlsplit(url or "").hostname or "").lower()
    labels = {_squash(label) for label in host.split(".")} - _GENERIC_HOST_LABELS
    if key in labels or (host and key == _squash(host.removeprefix("www."))):
        return True
    for name in names:
        other = _squash(name)
        if not other:
            continue
        short, long = sorted((key, other), key=len)
        # "Golem.de" names the site "Golem", "Spiegel Online" the site "Spiegel"; a headline
        # that merely starts with the site's name ("The Guardian view on ...") does not.
        if key == other or (
            len(short) >= 4 and long.startswith(short) and len(long) - len(short) <= _NAME_SLACK
        ):
            return True
    return False


def strip_site(title: str, names: Iterable[str], url: str | None = None,
               affixes: Iterable[str] = ()) -> str:  # fmt: skip
    """``title`` without the leading and trailing parts that name the site (or are dates),
    never leaving it empty."""
    names = list(names)
    for affix in affixes:
        if affix and title.endswith(affix) and len(title) > len(affix):
            title = title[: -len(affix)].rstrip()
        elif affix and title.startswith(affix) and len(title) > len(affix):
            title = title[len(affix) :].lstrip()
    parts = _SEPARATOR_RE.split(title)
    separators = _SEPARATOR_RE.findall(title)
    if len(parts) < 2:
        return title

    def droppable(part: str) -> bool:
        return names_site(part, names, url) or bool(_DATE_PART_RE.match(part.strip()))

    start, end = 0, len(parts)
    while end - start > 1 and droppable(parts[end - 1]):
        end -= 1
    while end - start > 1 and droppable(parts[start]):
        start += 1
    if (start, end) == (0, len(parts)):
        return title
    kept = parts[start]
    for index in range(start + 1, end):
        kept += separators[index - 1] + parts[index]
    return kept.strip()


def split_affix(title: str) -> tuple[str, str]:
    """The first and last separated part of a title ("" where there is none): what a site
    may add to every title."""
    parts = _SEPARATOR_RE.split(title)
    if len(parts) < 2:
        return "", ""
    separators = _SEPARATOR_RE.findall(title)
    return parts[0] + separators[0], separators[-1] + parts[-1]


def agreement(a: str, b: str) -> float:
    """How far two titles share their words (0 to 1)."""
    words_a, words_b = set(_words(a)), set(_words(b))
    if not words_a or not words_b:
        return 0.0
    return 2 * len(words_a & words_b) / (len(words_a) + len(words_b))


def headline(
    tree: lxml_html.HtmlElement,
    metadata_titles: list[str],
    names: Iterable[str],
    url: str | None = None,
    affixes: Iterable[str] = (),
    page_title: str | None = None,
    h1s: list[lxml_html.HtmlElement] | None = None,
) -> Headline:
    """The page's headline (see the module docstring). ``metadata_titles`` are the titles
    the page's metadata gives, most trusted first (JSON-LD headline, og:title,
    twitter:title); ``page_title`` is the ``<title>``, which is trusted less than a
    heading: it is the SEO title, often the site's name alone. ``h1s``: the page's ``<h1>``
    elements, when the caller has them."""
    names = list(names)
    affixes = list(affixes)
    strong = [strip_site(clean_title(t), names, url, affixes) for t in metadata_titles]
    # A title that is the site's name alone (twitter:title "News.az") names no story.
    strong = [t for t in strong if t and not names_site(t, names, url)]
    weak = strip_site(clean_title(page_title), names, url, affixes) if page_title else ""
    weak = "" if names_site(weak, names, url) else weak
    references = [*strong, weak] if weak else strong
    h1s = list(tree.iter("h1")) if h1s is None else h1s
    best: tuple[float, lxml_html.HtmlElement, str] | None = None
    for tag in _HEADING_TAGS:
        for element in h1s if tag == "h1" else tree.iter(tag):
            text = clean_title(element.text_content())
            if not text or len(text) > _MAX_HEADLINE_CHARS or names_site(text, names, url):
                continue
            score = max((agreement(text, ref) for ref in references), default=0.0)
            if score >= AGREEMENT and (best is None or score > best[0]):
                best = (score, element, text)
        if best is not None:
            text = strip_site(best[2], names, url, affixes)
            return Headline(_without_extras(text, references), best[1], tag)
    reworded = _reworded_headline(h1s, references, names, url)
    if reworded is not None:
        return reworded
    if strong:
        return Headline(strong[0], None, "metadata")
    first = h1s[0] if h1s else None
    if first is not None and clean_title(first.text_content()):
        return Headline(strip_site(clean_title(first.text_content()), names, url), first, "h1")
    return Headline(weak, None, "title" if weak else "")


def _reworded_headline(
    h1s: list[lxml_html.HtmlElement], references: list[str], names: list[str], url: str | None
) -> Headline | None:
    """The first ``<h1>`` that reads as a headline and shares some words with the metadata
    title: the visible headline of a page whose SEO title is reworded ("Taylor Swift's AMA
    row seems to be over" for "Taylor Swift is allowed to play her music at the AMAs")."""
    for element in h1s:
        text = clean_title(element.text_content())
        if not text or len(text) > _MAX_HEADLINE_CHARS or names_site(text, names, url):
            continue
        headline_like = len(_words(text)) >= _HEADLINE_WORDS or (
            " " not in text and len(text) >= _HEADLINE_WORDS * 3
        )
        if headline_like and max((agreement(text, r) for r in references), default=0) >= (
            REWORDED_AGREEMENT
        ):
            return Headline(strip_site(text, names, url), element, "h1")
    return None


def _without_extras(heading: str, references: list[str]) -> str:
    """The metadata title when the heading is that title plus words around it: a kicker or
    a button label the heading's markup runs into it ("Frain Incendie ...")."""
    squashed = _squash(heading)
    for reference in references:
        key = _squash(reference)
        if key and key != squashed and key in squashed and len(key) >= 0.6 * len(squashed):
            return reference
    return heading


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def _squash(text: str) -> str:
    return _NON_ALNUM_RE.sub("", text.lower())
