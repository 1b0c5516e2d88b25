"""Publication and modification dates of a page, as the page states them.

Sources in order of trust: the article's JSON-LD (``datePublished``), publication ``<meta>``
tags (``article:published_time`` and the many names CMSs use), ``<time>``/``itemprop``
markup, then htmldate's search of the whole page as the fallback. A value keeps the UTC
offset the page gives. A time without an offset is local to the site: it is placed in the
site's time zone when that is known, given the offset of another source on the page that
states the same instant, and otherwise stored as its day alone (``YYYY-MM-DD``): a local
time labelled ``+00:00`` would be hours off.

A page often states the instant in UTC in its metadata and the local time in its text
("2023-11-09T03:28Z" and "Nov 8, 10:28 p.m."); the same-instant rule gives the stored value
the local offset, and with it the day readers saw.
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import htmldate
from dateutil import parser as dateparser
from lxml import etree
from lxml import html as lxml_html

from crawler.extract.containers import text_after
from crawler.extract.datelines import find_dateline
from crawler.extract.jsonld import article_object, json_ld_objects, meta_tags, text_value

logger = logging.getLogger(__name__)

Parsed = datetime | date  # an aware or naive datetime, or a day

# Meta tags that state when a story was first published (lower-cased names).
PUBLISHED_META = (
    "article:published_time",
    "og:article:published_time",
    "og:published_time",
    "article:published",
    "article.published",
    "datepublished",
    "publishdate",
    "publish-date",
    "publish_date",
    "published_time",
    "published-date",
    "publication_date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date.created",
    "dcterms.created",
    "datecreated",
    "article_date_original",
    "original-publish-date",
    "cxenseparse:recs:publishtime",
    "dc.date",
    "dcterms.date",
    "date",
)
MODIFIED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "dcterms.modified",
    "dc.date.modified",
    "last-modified",
    "article.updated",
)

# A time of day in a date string: what tells "2023-11-08 00:00" from "2023-11-08".
_TIME_RE = re.compile(r"\d{1,2}[:h]\d{2}")
# The day part of ISO-like strings, for values the parsers reject ("2020-12-05T23:15:0Z").
_ISO_DAY_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:$|[T\s|])")
_UNIX_RE = re.compile(r"^\d{10}(?:\d{3})?$")
# Offsets of the time zone abbreviations dateutil does not know; the common ones in news.
_TZ_ABBREVIATIONS = {
    "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "MEZ": 1,
    "MESZ": 2, "EET": 2, "EEST": 3, "MSK": 3, "IST": 5.5, "PKT": 5, "SGT": 8, "HKT": 8,
    "JST": 9, "KST": 9, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13, "EST": -5, "EDT": -4,
    "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8,
    "HST": -10, "BRT": -3, "ART": -3,
}  # fmt: skip
_TZINFOS = {name: int(hours * 3600) for name, hours in _TZ_ABBREVIATIONS.items()}
# Offsets are whole quarter hours, at most 14 hours from UTC.
_QUARTER_HOUR = 15 * 60
_MAX_OFFSET = 14 * 3600
_EARLIEST_YEAR = 1990
# Meta names so generic that a date the page prints or labels is trusted more.
_WEAK_SOURCES = frozenset({"meta date", "meta dc.date", "meta dcterms.date"})
# A UTC time belongs to the day the page shows when an offset of at most this much puts it
# there: the offsets of most of the world's newsrooms. A larger shift means the page's day
# is another event's (the day a URL was created, hours before publication).
_LOCAL_SHIFT = timedelta(hours=9)
# Labels of a publication date in text, and how far after one the date is looked for.
_LABEL_RE = re.compile(
    r"\b(?:published|posted|erschienen|veröffentlicht|publié|publicado|pubblicato|"
    r"gepubliceerd|opublikowano|publicerad|date|datum|fecha|data)(?:\s+(?:on|am|le|el|il|em|op))?"
    r"\s*:?\s*",
    re.IGNORECASE,
)
_LABEL_TEXT = etree.XPath(
    "//body//text()[re:test(., '(published|posted|erschienen|ver.ffentlicht|publi|pubblicato|"
    "gepubliceerd|opublikowano|date|datum|fecha|data)', 'i')]",
    namespaces={"re": "http://exslt.org/regular-expressions"},
)
_LABEL_CHARS = 60
# How much text after the headline is read for a dateline.
_DATELINE_CHARS = 150
_MARKED_PUBLISHED = etree.XPath("//@itemprop[. = 'datePublished']/.. | //@pubdate/..")
_PUBLISH = "publish"  # in the class of a <time datetime> that dates the page's publication
_COMMENTS_RE = re.compile(r"comment|disqus|forum|repl(?:y|ies)", re.IGNORECASE)
# Dates in URL paths: /2023/11/08/, /2023/11/, /20231108/, -2023-11-08-.
_URL_DATE_RE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<sep>[/_-]?)(?P<m>0[1-9]|1[0-2])"
    r"(?:(?P=sep)(?P<d>0[1-9]|[12]\d|3[01]))?(?!\d)"
)


@dataclass(frozen=True)
class Candidate:
    """A date the page states, where it states it, and its parsed value."""

    source: str
    value: Parsed


@dataclass(frozen=True)
class PageDates:
    """A page's publication and modification dates as stored: ISO 8601 with the page's own
    offset, or a bare day; None when the page gives none."""

    published: str | None = None
    modified: str | None = None
    published_source: str | None = None


def parse_date(value: str | None, formats: Iterable[str] = ()) -> Parsed | None:
    """A date string as an aware datetime (an offset given), a naive one (a time without an
    offset) or a day; None when it is not a date. ``formats`` are tried first (strptime)."""
    if not value:
        return None
    text = " ".join(str(value).split())
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return parsed if _TIME_RE.search(text) or parsed.tzinfo else parsed.date()
    return _parse_iso(text) or _parse_unix(text) or _parse_free(text)


def _parse_iso(text: str) -> Parsed | None:
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text else text)
    except ValueError:
        return None
    if len(text) <= 10:
        return parsed.date()
    return _plausible(parsed)


def _parse_unix(text: str) -> Parsed | None:
    if not _UNIX_RE.match(text):
        return None
    seconds = int(text[:10])
    return _plausible(datetime.fromtimestamp(seconds, tz=UTC))


def _parse_free(text: str) -> Parsed | None:
    cleaned = (
        text.replace("|", " ").replace("h", ":") if re.search(r"\d{1,2}h\d{2}", text) else text
    )
    try:
        with warnings.catch_warnings():
            # dateutil warns on unknown zone names and will raise in a future version; an
            # unknown name leaves the time naive, which is what we want.
            warnings.simplefilter("ignore")
            parsed = dateparser.parse(cleaned, tzinfos=_TZINFOS, fuzzy=False)
    except (ValueError, OverflowError, TypeError):
        return _iso_day(text)
    plausible = _plausible(parsed)
    if plausible is not None and not _TIME_RE.search(text) and parsed.tzinfo is None:
        return plausible.date()
    return plausible


def _iso_day(text: str) -> date | None:
    match = _ISO_DAY_RE.match(text)
    if not match:
        return None
    try:
        return date(*map(int, match.groups()))
    except ValueError:
        return None


def _plausible(parsed: datetime) -> datetime | None:
    return parsed if parsed.year >= _EARLIEST_YEAR else None


def to_iso(value: Parsed | None, tz: str | None = None) -> str | None:
    """A parsed date as stored: aware times with their own offset, naive times in ``tz``
    (an IANA zone) or, without one, their day alone; days as ``YYYY-MM-DD``."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return value.isoformat()
    if value.tzinfo is None:
        zone = _zone(tz)
        if zone is None:
            return value.date().isoformat()
        value = value.replace(tzinfo=zone)
    return value.isoformat()


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        logger.warning("unknown time zone %r", name)
        return None


def page_dates(
    tree: lxml_html.HtmlElement,
    url: str | None = None,
    tz: str | None = None,
    *,
    objects: list[dict[str, Any]] | None = None,
    meta: dict[str, list[str]] | None = None,
    times: list[lxml_html.HtmlElement] | None = None,
    html: str | None = None,
    headline: lxml_html.HtmlElement | None = None,
    fallback: bool = True,
) -> PageDates:
    """The publication and modification dates of a page (see the module docstring).

    ``objects`` (the page's JSON-LD objects), ``meta`` (its meta tags, ``meta_tags``) and
    ``times`` (its ``<time>`` elements) are given when the caller has them; ``headline`` the
    headline element, under which a dateline is looked for when the markup states no
    date; ``fallback`` runs htmldate when nothing else gave a publication date, on ``html``
    (the decoded page) when given: htmldate also reads comments, which the parsed tree
    has lost.
    """
    objects = json_ld_objects(tree) if objects is None else objects
    meta = meta_tags(tree) if meta is None else meta
    times = list(tree.iter("time")) if times is None else times
    stated = stated_candidates(objects, meta)
    modified = modified_candidates(objects, meta)
    printed = dateline(headline, url) if headline is not None else None

    @functools.cache
    def marked() -> list[Candidate]:
        # A walk over the whole page (~0.2 ms on a large one), needed only when the dates
        # the page states in JSON-LD and meta tags leave the choice open.
        return marked_candidates(tree, times)

    first = next((c for c in stated if c.source not in _WEAK_SOURCES), None)
    published = stated if first is not None and _settled(first) else [*stated, *marked()]

    @functools.cache
    def everything() -> list[Candidate]:
        # Every date of the page, for localizing one that lacks its offset: a page lists
        # dozens of <time> elements (related stories), and most chosen dates need none.
        dated = [*stated, *marked(), *modified, *_time_elements(times)]
        return [*dated, *([printed] if printed else [])]

    strong = [c for c in published if c.source not in _WEAK_SOURCES]
    same_event = [*published, *([printed] if printed else [])]
    chosen = _localized(strong[0], everything, same_event) if strong else printed
    if chosen is None:
        chosen = labelled_date(tree)
    if chosen is None and published:
        chosen = _localized(published[0], everything, same_event)
    if chosen is not None and chosen is not printed:
        chosen = _on_local_day(chosen, _local_day(printed, url))
    if chosen is None and fallback:
        chosen = _htmldate(html if html is not None else tree, url)
    updated = _localized(modified[0], everything, modified) if modified else None
    return PageDates(
        published=to_iso(chosen.value, tz) if chosen else None,
        modified=to_iso(updated.value, tz) if updated else None,
        published_source=chosen.source if chosen else None,
    )


def stated_candidates(objects: list[dict[str, Any]], meta: dict[str, list[str]]) -> list[Candidate]:
    """The publication dates the page's JSON-LD and meta tags state, most trusted first."""
    found: list[Candidate] = []
    article = article_object(objects)
    for key in ("datePublished", "dateCreated"):
        _add(found, f"json-ld {key}", text_value(article.get(key)))
    for obj in objects:
        if obj is not article:
            _add(found, "json-ld other", text_value(obj.get("datePublished")))
    for name in PUBLISHED_META:
        for value in meta.get(name, ()):
            _add(found, f"meta {name}", value)
    return found


def marked_candidates(
    tree: lxml_html.HtmlElement, times: list[lxml_html.HtmlElement]
) -> list[Candidate]:
    """The publication dates marked up in the page's body (itemprop, pubdate, <time> of class
    "published"), after those of ``stated_candidates``."""
    found = _agreeing(_marked(_MARKED_PUBLISHED(tree), "itemprop", "content"))
    published = [
        t for t in times if t.get("datetime") is not None and _PUBLISH in t.get("class", "")
    ]
    return found + _agreeing(_marked(published, "time.published"))


def _settled(candidate: Candidate) -> bool:
    """Whether ``_localized`` keeps ``candidate`` as it is, whatever the page's other dates:
    a day, or a time with a local (non-UTC) offset."""
    value = candidate.value
    return not isinstance(value, datetime) or (
        value.tzinfo is not None and _offset(value) != timedelta(0)
    )


def _marked(
    elements: list[lxml_html.HtmlElement], source: str, attribute: str = "datetime"
) -> list[Candidate]:
    found: list[Candidate] = []
    for element in elements:
        if not _in_comments(element):
            _add(found, source, element.get("datetime") or element.get(attribute))
    return found


def _agreeing(candidates: list[Candidate]) -> list[Candidate]:
    """``candidates`` when they all state the same day; none when they disagree: markup
    that dates several items (a list of stories, comments) does not date the page."""
    days = {c.value.date() if isinstance(c.value, datetime) else c.value for c in candidates}
    return candidates if len(days) <= 1 else []


def _in_comments(element: lxml_html.HtmlElement) -> bool:
    """Whether ``element`` sits in a reader-comment section, whose dates are the comments'."""
    return any(
        _COMMENTS_RE.search(f"{a.get('class', '')} {a.get('id', '')}")
        for a in element.iterancestors()
    )


def modified_candidates(
    objects: list[dict[str, Any]], meta: dict[str, list[str]]
) -> list[Candidate]:
    """Every modification date the page's metadata states, most trusted first."""
    found: list[Candidate] = []
    _add(found, "json-ld dateModified", text_value(article_object(objects).get("dateModified")))
    for name in MODIFIED_META:
        for value in meta.get(name, ()):
            _add(found, f"meta {name}", value)
    return found


def _time_elements(times: list[lxml_html.HtmlElement]) -> list[Candidate]:
    found: list[Candidate] = []
    for element in times:
        _add(found, "time", element.get("datetime"))
    return found


def _add(found: list[Candidate], source: str, value: str | None) -> None:
    parsed = parse_date(value)
    if parsed is not None:
        found.append(Candidate(source, parsed))


def _localized(
    chosen: Candidate, dated: Callable[[], list[Candidate]], same_event: list[Candidate]
) -> Candidate:
    """``chosen`` with the local offset the page gives the same moment.

    A UTC value takes the offset of an aware date of the page (``dated()``, asked for only
    when needed) stating the same instant with another offset, or of a naive source stating
    the same event (``same_event``: the other publication dates, the dateline) whose
    wall-clock time is a whole number of quarter hours away, seconds equal (the local time
    the page shows). A naive value takes the offset of an aware date stating the same
    wall-clock time.
    """
    value = chosen.value
    if _settled(chosen) or not isinstance(value, datetime):
        return chosen
    others = dated()
    if value.tzinfo is None:
        for other in others:
            local = other.value
            aware = isinstance(local, datetime) and local.tzinfo is not None
            if aware and isinstance(local, datetime) and local.replace(tzinfo=None) == value:
                return Candidate(chosen.source, local)
        return chosen
    for other in [*others, *same_event]:
        offset = _offset_between(other.value, value, naive_too=other in same_event)
        if offset is not None and offset != timedelta(0):
            return Candidate(chosen.source, value.astimezone(timezone(offset)))
    # The same instant written in the one local offset every other time of the page uses:
    # the instant is unchanged, the day becomes the one readers saw.
    offsets = {_offset(o.value) for o in others} - {None, timedelta(0)}
    if len(offsets) == 1:
        offset = offsets.pop()
        assert offset is not None
        return Candidate(chosen.source, value.astimezone(timezone(offset)))
    return chosen


def _offset_between(local: Parsed, instant: datetime, naive_too: bool) -> timedelta | None:
    """The UTC offset under which ``local`` states ``instant``: an aware value's own offset
    when it is the same instant; for a naive one (when ``naive_too``), the whole number of
    quarter hours between its wall clock and the instant's UTC wall clock."""
    if not isinstance(local, datetime):
        return None
    if local.tzinfo is not None:
        return local.utcoffset() if local.timestamp() == instant.timestamp() else None
    if not naive_too:
        return None
    wall = instant.astimezone(UTC).replace(tzinfo=None)
    difference = (local - wall).total_seconds()
    if abs(difference) > _MAX_OFFSET or difference % _QUARTER_HOUR:
        return None
    return timedelta(seconds=difference)


def _local_day(printed: Candidate | None, url: str | None) -> date | None:
    """The day the page itself shows: its dateline's, else the day its URL is dated with."""
    if printed is not None:
        value = printed.value
        return value.date() if isinstance(value, datetime) else value
    bounds = url_month(url)
    return bounds[0] if bounds and bounds[0] == bounds[1] else None


def _on_local_day(chosen: Candidate, day: date | None) -> Candidate:
    """A UTC time whose day is not the day the page shows is stored as that day.

    "2023-11-01T23:01:00Z" on a page filed under /2023/11/02/ was published on the 2nd in
    the site's own zone, which the page does not state: the day is certain, an offset
    would be invented, and the UTC day is not the one readers saw.
    """
    value = chosen.value
    if day is None or not isinstance(value, datetime) or _offset(value) != timedelta(0):
        return chosen
    if value.date() == day:
        return chosen
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    if start - _LOCAL_SHIFT <= value < start + timedelta(days=1) + _LOCAL_SHIFT:
        return Candidate(f"{chosen.source}, local day", day)
    return chosen


def _offset(value: Parsed) -> timedelta | None:
    return value.utcoffset() if isinstance(value, datetime) else None


def dateline(headline: lxml_html.HtmlElement, url: str | None = None) -> Candidate | None:
    """The date printed under the headline ("13 Oct 2020 18:29", "Familie | 17/02/2022"):
    the date readers see first. One outside the month (or day) the URL is dated with is
    another story's."""
    found = find_dateline(text_after(headline, _DATELINE_CHARS))
    if found is None:
        return None
    bounds = url_month(url)
    day = found.date() if isinstance(found, datetime) else found
    if bounds and not bounds[0] <= day <= bounds[1]:
        return None
    return Candidate("dateline", found)


def labelled_date(tree: lxml_html.HtmlElement) -> Candidate | None:
    """The first date the page's text labels as the publication date ("Erschienen am:
    13.10.2021", "Published: Oct 13, 2020", "Datum: 03.02.2022")."""
    for node in _LABEL_TEXT(tree):
        parent = node.getparent()
        if parent is None or parent.tag in ("script", "style") or _in_comments(parent):
            continue
        text = str(node)
        match = _LABEL_RE.search(text)
        if match is None:
            continue
        found = find_dateline(text[match.end() :][:_LABEL_CHARS])
        if found is None and parent is not None:
            after = text_after(parent, _LABEL_CHARS) if not node.is_tail else ""
            found = find_dateline(after[:_LABEL_CHARS])
        if found is not None:
            return Candidate("label", found)
    return None


def fallback_date(
    page: str | lxml_html.HtmlElement, url: str | None = None, tz: str | None = None
) -> str | None:
    """htmldate's day for a page whose markup states no publication date."""
    found = _htmldate(page, url)
    return to_iso(found.value, tz) if found else None


def url_month(url: str | None) -> tuple[date, date] | None:
    """The first and last day of the month (or the day) a URL's path is dated with."""
    if not url:
        return None
    match = _URL_DATE_RE.search(urlsplit(url).path)
    if match is None or (not match.group("sep") and not match.group("d")):
        return None  # "202311" alone is as likely an id as a month
    year, month = int(match.group("y")), int(match.group("m"))
    if match.group("d"):
        try:
            day = date(year, month, int(match.group("d")))
        except ValueError:
            return None
        return day, day
    last = (date(year + month // 12, month % 12 + 1, 1)) - timedelta(days=1)
    return date(year, month, 1), last


def _htmldate(page: str | lxml_html.HtmlElement, url: str | None) -> Candidate | None:
    """htmldate's day for the page: the fallback for pages whose markup says nothing. A
    date in the URL's path bounds the search: a story filed under /2011/12/ was not
    published in 2010."""
    bounds = url_month(url)
    earliest, latest = (bounds[0].isoformat(), bounds[1].isoformat()) if bounds else (None, None)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = htmldate.find_date(
                page, url=url, original_date=True, min_date=earliest, max_date=latest
            )
    except Exception:  # a date is never worth failing a page for
        logger.debug("htmldate failed on %s", url, exc_info=True)
        return None
    day = _iso_day(found) if found else None
    return Candidate("htmldate", day) if day else None
