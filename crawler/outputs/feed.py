"""Atom 1.0 feeds of matched stories, for feed readers.

One entry per matched story, newest first. Everything in a feed comes from crawled pages, so
every string is cleaned of characters XML cannot carry and escaped by the XML writer; the
summary is HTML (matched words in ``<b>``) built from escaped pieces, then escaped again as
the element's text, as Atom's ``type="html"`` requires.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import sqlite_utils

from crawler.alerts.render import highlight, merge_snippets
from crawler.config import Config
from crawler.db import connect, queries
from crawler.outputs.atomic_files import write_atomic
from crawler.safe_text import one_line
from crawler.timestamps import parse_iso

ATOM_NS = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
# tag URIs (RFC 4151) need no domain of ours and never change with where the feed is hosted.
TAG = "tag:newsmon,2025:"
FEED_LIMIT = 100
# Characters XML 1.0 forbids (most C0 controls, lone surrogates, U+FFFE/U+FFFF): one of them
# makes the whole document unreadable to a conforming parser.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")


def xml_text(value: object) -> str:
    """``value`` as text XML can carry: forbidden characters removed."""
    return _XML_INVALID.sub("", "" if value is None else str(value))


def write_feed(
    db: sqlite_utils.Database,
    path: str | Path,
    watch: str | None = None,
    *,
    limit: int = FEED_LIMIT,
) -> None:
    """Write the feed of ``watch`` (every watch if None) to ``path``, atomically: a feed
    reader polling the file never sees half of it. Meant to be called after each crawl."""
    write_atomic(path, build_feed(db, watch, limit=limit))


def build_feed(
    db: sqlite_utils.Database, watch: str | None = None, *, limit: int = FEED_LIMIT
) -> bytes:
    """The Atom document (UTF-8) of the ``limit`` newest stories matching ``watch`` (any
    watch if None)."""
    rows = queries.stories(db, watch=watch, limit=limit)
    _attach_details(db, rows, watch)
    entries = [_entry(row) for row in rows]
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    scope = f"watch/{quote(watch, safe='')}" if watch else "all"
    _add(feed, "id", f"{TAG}feed/{scope}")
    _add(feed, "title", f"newsmon: {one_line(watch)}" if watch else "newsmon: every watch")
    matching = f"the watch {one_line(watch)}" if watch else "newsmon's watches"
    _add(feed, "subtitle", f"Stories matching {matching}, newest first")
    stamps = [stamp for e in entries if (stamp := e.findtext("updated"))]
    updated = max(stamps, key=_instant, default=None)
    _add(feed, "updated", updated or datetime.now(UTC).replace(microsecond=0).isoformat())
    _add(_add(feed, "author"), "name", "newsmon")
    _add(feed, "generator", "newsmon", version=_version())
    feed.extend(entries)
    ET.indent(feed)  # one element per line: readable, and diffs well between writes
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True) + b"\n"


def _attach_details(
    db: sqlite_utils.Database, rows: list[dict[str, Any]], watch: str | None
) -> None:
    """Add each story's snippets and the time its current version was stored."""
    ids = [row["id"] for row in rows]
    if not ids:
        return
    marks = ",".join("?" * len(ids))
    snippets: dict[int, list[str]] = {}
    for article_id, match_watch, snippet in db.execute(
        f"SELECT article_id, watch, snippet FROM matches WHERE article_id IN ({marks}) "
        "ORDER BY watch",
        ids,
    ):
        # A watch's feed shows why the story is in it; the all-watch feed shows every match.
        if watch is None or match_watch == watch:
            snippets.setdefault(article_id, []).append(snippet)
    stored = dict(
        db.execute(
            f"SELECT v.article_id, v.seen_at FROM article_versions v JOIN articles a "
            f"ON a.id = v.article_id AND a.version = v.version WHERE a.id IN ({marks})",
            ids,
        ).fetchall()
    )
    for row in rows:
        row["snippets"] = merge_snippets(snippets.get(row["id"], []))
        row["stored_at"] = stored.get(row["id"]) or row["first_seen"]


def _entry(row: dict[str, Any]) -> ET.Element:
    entry = ET.Element("entry")
    language = row.get("language") or ""
    if _LANGUAGE_TAG.fullmatch(language):
        entry.set(XML_LANG, language)
    _add(entry, "id", row["url"])
    _add(entry, "title", one_line(row["title"]) or "(no title)", type="text")
    _add(entry, "link", rel="alternate", type="text/html", href=row["url"])
    published = _timestamp(row["published"]) or _timestamp(row["first_seen"])
    # Updated is when newsmon stored the current version (an edit makes feed readers show
    # the entry again), never earlier than the publication itself.
    updated = max(filter(None, [published, _timestamp(row["stored_at"])]), key=_instant)
    if published:
        _add(entry, "published", published)
    _add(entry, "updated", updated)
    _add(_add(entry, "author"), "name", one_line(row["author"]) or one_line(row["site"]))
    for name in row["watches"]:
        _add(entry, "category", term=name, label=name)
    _add(entry, "summary", _summary_html(row), type="html")
    _add_source(entry, row)
    return entry


def _summary_html(row: dict[str, Any]) -> str:
    """The snippets as HTML paragraphs, matched words in <b>; every piece escaped."""
    paragraphs = [
        highlight(snippet, html.escape, lambda text: f"<b>{html.escape(text)}</b>")
        for snippet in row["snippets"]
    ]
    if row["duplicate_of"]:
        paragraphs.append(f"Near-duplicate of {html.escape(row['duplicate_of'])}")
    return "".join(f"<p>{p}</p>" for p in paragraphs if p)


def _add_source(entry: ET.Element, row: dict[str, Any]) -> None:
    """The site the story comes from, as Atom's <source> (its home page and name)."""
    parts = urlsplit(row["url"])
    source = _add(entry, "source")
    if parts.scheme and parts.netloc:
        home = f"{parts.scheme}://{parts.netloc}/"
        _add(source, "id", home)
        _add(source, "link", rel="alternate", type="text/html", href=home)
    _add(source, "title", one_line(row["site"]))


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    """A child element whose text and attributes are cleaned for XML (the writer escapes)."""
    child = ET.SubElement(parent, tag, {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        child.text = xml_text(text)
    return child


def _timestamp(value: str | None) -> str | None:
    """A stored time as RFC 3339 (a time without an offset is taken as UTC); None if unusable."""
    if not value:
        return None
    try:
        return parse_iso(value).isoformat()
    except ValueError:
        return None


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _version() -> str:
    try:
        return version("newsmon")
    except PackageNotFoundError:
        return "unknown"


def refresh_feed(config: Config) -> Path | None:
    """Rewrite the configured ``feed_file`` (every watch) from the database; the daemon calls
    this after each crawl. Returns the path written, or None when no feed file is configured."""
    if config.feed_file is None:
        return None
    with connect(config.database) as db:
        write_feed(db, config.feed_file)
    return config.feed_file
