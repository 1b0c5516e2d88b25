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

from crawler.db import queries

COLUMNS = (
    "id", "url", "site", "title", "author", "published", "language", "watches", "version",
    "duplicate_of", "first_seen", "last_seen", "text",
)  # fmt: skip
FORMATS = ("csv", "jsonl")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Line breaks that JSON leaves unescaped but str.splitlines() and some JSON Lines readers
# split on; escaped, every story stays on exactly one line.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def stories(
    db: sqlite_utils.Database,
    *,
    since: str | None = None,
    site: str | None = None,
    watch: str | None = None,
    matched_only: bool = True,
) -> Iterator[dict[str, Any]]:
    """Stories newest first with the export's COLUMNS (``watches`` a list, ``duplicate_of``
    the original's URL), filtered as in ``newsmon articles`` (see queries.iter_stories)."""
    found = queries.iter_stories(db, since=since, site=site, watch=watch, matched_only=matched_only)
    for row in found:
        yield {key: row[key] for key in COLUMNS}


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
