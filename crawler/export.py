"""Stories as CSV (for spreadsheets) or JSON Lines (for scripts), streamed newest first.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``,
tab or carriage return) get a leading ``'``: crawled text is untrusted, and a headline such
as ``=HYPERLINK(...)`` must stay text when someone opens the file. JSON Lines is never
altered, so it is the lossless choice for programs.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import IO, Any

import sqlite_utils

from crawler.queries import parse_when

COLUMNS = (
    "id", "url", "site", "title", "author", "published", "language", "watches", "version",
    "duplicate_of", "first_seen", "last_seen", "text",
)  # fmt: skip
FORMATS = ("csv", "jsonl")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Line breaks that JSON leaves unescaped but str.splitlines() and some JSON Lines readers
# split on; escaped, every story stays on exactly one line.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
# When a story happened: its publication time, else when newsmon first saw it. julianday()
# compares instants across UTC offsets, which the stored strings alone do not.
_WHEN = "coalesce(julianday(a.published), julianday(a.first_seen))"


def stories(
    db: sqlite_utils.Database,
    *,
    since: str | None = None,
    site: str | None = None,
    watch: str | None = None,
    matched_only: bool = True,
) -> Iterator[dict[str, Any]]:
    """Stories newest first, as dicts with COLUMNS (``watches`` a list, ``duplicate_of`` the
    original's URL), read one at a time so that a large export needs little memory.

    Filters as in ``newsmon articles``: matched stories only unless ``matched_only`` is false
    (a ``watch`` implies matched), ``since`` an ISO date or time (naive means local time).
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
        "SELECT a.id, a.url, a.site, a.title, a.author, a.published, a.language, a.version, "
        "d.url AS duplicate_of, a.first_seen, a.last_seen, a.text "
        "FROM articles a LEFT JOIN articles d ON d.id = a.duplicate_of"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY {_WHEN} DESC, a.id DESC"
    )
    watches = _watches_by_article(db)
    cursor = db.execute(sql, params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        row["watches"] = watches.get(row["id"], [])
        yield {key: row[key] for key in COLUMNS}


def _watches_by_article(db: sqlite_utils.Database) -> dict[int, list[str]]:
    by_id: dict[int, list[str]] = {}
    for article_id, watch in db.execute("SELECT article_id, watch FROM matches ORDER BY watch"):
        by_id.setdefault(article_id, []).append(watch)
    return by_id


def write_csv(rows: Iterator[dict[str, Any]], out: IO[str], *, bom: bool = False) -> int:
    """Write ``rows`` as CSV (header, then one record per story); returns the count.

    ``out`` should be opened with ``newline=""``: line breaks inside text are written as is,
    within quotes, and records end in CRLF (RFC 4180). ``bom`` starts the file with a UTF-8
    byte order mark, which Excel needs to detect the encoding of a double-clicked file.
    """
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        writer.writerow([csv_cell(row[key]) for key in COLUMNS])
        count += 1
    return count


def csv_cell(value: Any) -> Any:
    """One value as a spreadsheet-safe CSV cell (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = ",".join(value)
    if not isinstance(value, str):
        return value
    # NUL ends a string in many spreadsheet and C-based readers, cutting the cell short.
    value = value.replace("\x00", "")
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def write_jsonl(rows: Iterator[dict[str, Any]], out: IO[str]) -> int:
    """Write ``rows`` as JSON Lines, one object per story; returns the count."""
    count = 0
    for row in rows:
        line = json.dumps(row, ensure_ascii=False)
        for char, escaped in _LINE_BREAKS.items():
            line = line.replace(char, escaped)  # such characters occur only inside strings
        out.write(line + "\n")
        count += 1
    return count


def export(
    db: sqlite_utils.Database, out: IO[str], fmt: str = "csv", *, bom: bool = False, **filters: Any
) -> int:
    """Write the stories selected by ``filters`` (see ``stories``) to ``out`` as ``fmt``
    (``csv`` or ``jsonl``); returns how many were written."""
    rows = stories(db, **filters)
    if fmt == "csv":
        return write_csv(rows, out, bom=bom)
    if fmt == "jsonl":
        return write_jsonl(rows, out)
    raise ValueError(f"unknown export format {fmt!r} (use one of: {', '.join(FORMATS)})")
