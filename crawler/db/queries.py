"""Reading the record: stories, matches, search and per-site status, as plain dicts."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import sqlite_utils

from crawler.db.matching import search_stemmed, validate_query

STORY_COLUMNS = (
    "a.id, a.url, a.site, a.title, a.author, a.published, a.language, a.text, a.version, "
    "d.url AS duplicate_of, a.first_seen, a.last_seen"
)


# When a story happened: its publication time, else when newsmon first saw it. julianday()
# compares instants across UTC offsets, which the stored strings alone do not.
_WHEN = "coalesce(julianday(a.published), julianday(a.first_seen))"


def iter_stories(
    db: sqlite_utils.Database,
    *,
    site: str | None = None,
    watch: str | None = None,
    since: str | None = None,
    matched_only: bool = True,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """Stories newest first (by publication, else first seen), each with its ``watches``,
    read one at a time so that a large export needs little memory.

    Matched stories only unless ``matched_only`` is false (a ``watch`` implies matched);
    ``since`` is an ISO date or time (naive means local time).
    """
    where, params = [], []
    if site:
        where.append("a.site = ?")
        params.append(site)
    if watch:
        where.append("EXISTS (SELECT 1 FROM matches m WHERE m.article_id = a.id AND m.watch = ?)")
        params.append(watch)
    elif matched_only:
        where.append("EXISTS (SELECT 1 FROM matches m WHERE m.article_id = a.id)")
    if since:
        where.append(f"{_WHEN} >= julianday(?)")
        params.append(parse_when(since).isoformat())
    sql = (
        f"SELECT {STORY_COLUMNS} FROM articles a LEFT JOIN articles d ON d.id = a.duplicate_of"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY {_WHEN} DESC, a.id DESC"
        + (f" LIMIT {int(limit)}" if limit else "")
    )
    watches = _watches_by_article(db)
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        row["watches"] = watches.get(row["id"], [])
        yield row


def stories(db: sqlite_utils.Database, **filters: Any) -> list[dict[str, Any]]:
    """:func:`iter_stories` as a list."""
    return list(iter_stories(db, **filters))


def search(db: sqlite_utils.Database, query: str, limit: int | None = None) -> list[dict]:
    """Full-text search over every stored story, best match first, with a snippet: each
    story searched as watches match it (its language's stemmer, CJK by substring)."""
    validate_query(query)
    hits = search_stemmed(db.conn, query, limit)
    sql = (
        f"SELECT {STORY_COLUMNS} FROM articles a LEFT JOIN articles d ON d.id = a.duplicate_of "
        "WHERE a.id = ?"
    )
    watches = _watches_by_article(db)
    rows = []
    for article_id, _rank, snippet in hits:
        for row in _dict_rows(db, sql, [article_id]):
            rows.append({**row, "snippet": snippet, "watches": watches.get(article_id, [])})
    return rows


def _dict_rows(db: sqlite_utils.Database, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = db.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _watches_by_article(db: sqlite_utils.Database) -> dict[int, list[str]]:
    by_id: dict[int, list[str]] = {}
    for article_id, watch in db.execute("SELECT article_id, watch FROM matches ORDER BY watch"):
        by_id.setdefault(article_id, []).append(watch)
    return by_id


def parse_when(value: str) -> datetime:
    """An ISO 8601 date or time (a naive one is taken as UTC) as an aware datetime."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.now().astimezone().tzinfo)
