"""The people who wrote a story: the byline's person names.

Sources in order of trust: the article's JSON-LD ``author`` (persons only, ``@id`` references
resolved), author ``<meta>`` tags, ``rel=author``/``itemprop=author`` markup and byline
elements, then byline sentences near the headline ("By X", "Von X", "Author: X"). A name is
kept when it reads as a person's: never an e-mail address, a URL, or the site's or
publisher's name ("Deutsche Welle (www.dw.com)"); "By", roles ("Staff Writer"), dates and
agencies after the name are cut. Several authors are joined with ", ".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from crawler.extract.containers import following
from crawler.extract.jsonld import ORGANIZATION_TYPES, by_id, resolve, text_value, types_of
from crawler.extract.titles import clean_title, names_site

AUTHOR_META = (
    "author",
    "article:author",
    "parsely-author",
    "sailthru.author",
    "dc.creator",
    "dcterms.creator",
    "byl",
    "cxenseparse:author",
)
# "By" in the languages of the news newsmon reads (never a surname particle such as "de"),
# and labels that need a colon ("Author: X").
_BY = r"by|written by|posted by|reporting by|von|par|por|door|av|przez|από|от"
_LABELS = r"authors?|autor(?:in|en)?|auteur|autore|text|texte|words|автор"
_BYLINE_RE = re.compile(rf"^\s*(?:{_BY})\s*:?\s+(?P<names>.+)$", re.IGNORECASE)
_LABEL_RE = re.compile(rf"^\s*(?:{_BY}|{_LABELS})\s*:\s*", re.IGNORECASE)
_EMAIL_RE = re.compile(r"\S+@\S+\.\w+")
_URL_RE = re.compile(r"https?://|www\.", re.IGNORECASE)
# Where a byline's names end: a separator, a date or time, a role or an agency credit.
_TAIL_RE = re.compile(
    r"\s*(?:[|•·–—]|\s-\s|,?\s+(?:on|am|le|el|il)\s+\d|\d{1,2}[./:]\d{1,2}|\(|"
    r",\s*(?:staff|senior|chief|special|political|foreign|business|contributing|correspondent|"
    r"reporter|editor|writer|columnist|journalist|redakteur|korrespondent|photographer)"
    r"|\s+on\s+(?:mon|tue|wed|thu|fri|sat|sun|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
    r"|\b(?:updated|published|posted|aktualisiert|veröffentlicht)\b).*$",
    re.IGNORECASE,
)
# A full stop after a word (not an initial: "Sarah E. Needleman") ends a name: "Finian
# Cunningham. Sputnik International" is a person, then the publisher.
_SPLIT_RE = re.compile(
    r"\s*(?:,|;|&|(?<=[^\W\d_]{2})\.\s+|\band\b|\bund\b|\bet\b|\by\b|\be\b|\bi\b|\ben\b|\bog\b)\s*"
)
_ROLE_WORDS = frozenset(
    {
        "staff", "editor", "editors", "reporter", "writer", "redaktion", "team", "desk",
        "newsroom", "agency", "agencies", "correspondent", "contributor", "admin",
        "administrator", "guest", "news", "editorial", "webmaster", "online", "press",
        "group", "wire", "agencia", "agence", "agentur", "media", "developed", "designed",
        "powered", "sobre", "about", "the",
    }
)  # fmt: skip
_WORD_RE = re.compile(r"[^\W\d_][\w'’.-]*")
# Elements with rel="author", itemprop="author" or a byline class. Written over attributes
# (their owners, "..", in document order) rather than as a test of every element: this runs
# over every page, and libxml2 walks attribute nodes about twice as fast.
_BYLINE_XPATH = etree.XPath(
    "//@class[contains(., 'byline') or (contains(., 'author') and (contains(., 'author-name')"
    " or contains(., 'author__name') or contains(., 'authorname') or"
    " contains(., 'article-author')))]/.. | //@rel[. = 'author']/.. | //@itemprop[. = 'author']/.."
)
_MAX_NAME_CHARS = 60
_MAX_NAME_WORDS = 5
_MAX_AUTHORS = 6
_BYLINE_WINDOW = 12  # text blocks after the headline searched for a "By X" sentence


def page_authors(
    tree: lxml_html.HtmlElement,
    objects: list[dict[str, Any]],
    article: dict[str, Any],
    meta: dict[str, list[str]],
    site: Iterable[str] = (),
    url: str | None = None,
    headline: lxml_html.HtmlElement | None = None,
) -> str | None:
    """The story's author names joined with ", ", or None (see the module docstring).
    ``site`` are the names of the site and publisher, which are never an author."""
    site = list(site)
    # Most trusted first, each looked for only when the ones before gave no name: the
    # markup searches walk the whole page.
    for candidates in (
        lambda: _json_ld_authors(article, objects),
        lambda: [v for key in AUTHOR_META for v in meta.get(key, ())],
        lambda: _marked_authors(tree),
        lambda: _byline_sentences(tree, headline),
    ):
        names = clean_names(candidates(), site, url)
        if names:
            return ", ".join(names[:_MAX_AUTHORS])
    return None


def clean_names(
    candidates: Iterable[str], site: Iterable[str] = (), url: str | None = None
) -> list[str]:
    """Person names from raw byline strings: labels, roles, dates, e-mail addresses and
    site names removed, several names split, duplicates dropped (order kept)."""
    site = list(site)
    names: list[str] = []
    seen: set[str] = set()
    for raw in candidates:
        for position, name in enumerate(_names_in(clean_title(raw))):
            key = name.lower()
            if any(key in known for known in seen) or names_site(name, site, url):
                continue
            if position and _host_brand(name, url):
                continue  # "Finian Cunningham. Sputnik International" on sputniknews.com
            seen.add(key)
            names.append(_uncapped(name))
    return names


def _uncapped(name: str) -> str:
    """A name written in capitals (AP style "By TOM KRISHER") as a reader writes it:
    "Tom Krisher", "Jean-Luc O'Neil"."""
    if not name.isupper() or len(_WORD_RE.findall(name)) < 2:
        return name
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), name)


def _host_brand(name: str, url: str | None) -> bool:
    """Whether a name's first word starts the site's host name ("Sputnik International" on
    sputniknews.com). Only a name after the first is judged so: a blog named after its author
    (paulasmith.com) keeps its author."""
    first = _WORD_RE.findall(name)[:1]
    host = (urlsplit(url or "").hostname or "").lower().removeprefix("www.")
    label = host.split(".")[0] if host else ""
    word = first[0].lower().strip(".") if first else ""
    return len(word) >= 4 and label.startswith(word)


def _names_in(text: str) -> list[str]:
    if not text or _URL_RE.search(text):
        return []
    text = _LABEL_RE.sub("", text)
    match = _BYLINE_RE.match(text)
    if match:
        text = match.group("names")
    text = _EMAIL_RE.sub(" ", text)
    text = _TAIL_RE.sub("", text)
    return [part for part in (p.strip(" .,:;-") for p in _SPLIT_RE.split(text)) if _is_person(part)]


def _is_person(name: str) -> bool:
    """Whether ``name`` reads as a person's name: a few words, letters only, not a role."""
    if not name or len(name) > _MAX_NAME_CHARS or any(c.isdigit() for c in name):
        return False
    words = _WORD_RE.findall(name)
    if not words or len(words) > _MAX_NAME_WORDS:
        return False
    if any(w.lower().strip(".") in _ROLE_WORDS for w in words):
        return False
    # Scripts with letter case write names capitalised, and a person has a first name and
    # a surname: a lower-case run is a phrase, one capitalised word an agency or a brand.
    cased = [w for w in words if w[0].isalpha() and w[0].lower() != w[0].upper()]
    if not cased:
        return True
    return len(words) >= 2 and sum(w[0].isupper() for w in cased) >= max(2, len(cased) - 1)


def _json_ld_authors(article: dict[str, Any], objects: list[dict[str, Any]]) -> list[str]:
    ids = by_id(objects)
    value = article.get("author") or article.get("creator")
    found: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        item = resolve(item, ids)
        if isinstance(item, dict) and types_of(item) & ORGANIZATION_TYPES:
            continue
        name = text_value(item)
        if name:
            found.append(name)
    return found


def _marked_authors(tree: lxml_html.HtmlElement) -> list[str]:
    found = []
    for element in _BYLINE_XPATH(tree):
        if element.get("itemprop") == "author":
            name = element.xpath(".//*[@itemprop='name']/@content | .//*[@itemprop='name']")
            if name:
                value = name[0]
                found.append(value if isinstance(value, str) else value.text_content())
                continue
        text = element.get("content") or element.text_content()
        if text and len(text) <= 3 * _MAX_NAME_CHARS:
            found.append(text)
    return found


def _byline_sentences(
    tree: lxml_html.HtmlElement, headline: lxml_html.HtmlElement | None
) -> list[str]:
    """Short "By X" lines among the first text blocks after the headline."""
    if headline is None:
        return []
    found = []
    seen = 0
    for element in following(headline):
        for block in element.iter("p", "div", "span", "li", "strong", "em", "b"):
            text = " ".join(block.text_content().split())
            if not text or len(text) > 3 * _MAX_NAME_CHARS:
                continue
            if _BYLINE_RE.match(text) or _LABEL_RE.match(text):
                found.append(text)
            seen += 1
            if seen >= _BYLINE_WINDOW:
                return found
    return found
