"""Watch matching with SQLite FTS5 over title + body.

Queries use FTS5 syntax. The index tokenizer (porter stemming over unicode61 with diacritics
removed) makes matching case- and diacritics-insensitive and folds English inflections, so
``"rare earths"`` matches "rare earth", "Rare Earths" and "rare-earth".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

TOKENIZE = "porter unicode61 remove_diacritics 2"
# Markers around matched words in stored snippets; renderers turn them into bold/<mark>.
HIGHLIGHT_OPEN = "**"
HIGHLIGHT_CLOSE = "**"
_SNIPPET_TOKENS = 32


class QueryError(ValueError):
    """A watch query that FTS5 cannot parse."""


@dataclass(frozen=True)
class Match:
    watch: str
    snippet: str


def validate_query(query: str) -> None:
    """Raise QueryError if ``query`` is not a valid FTS5 query."""
    if not query.strip():
        raise QueryError("empty query")
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(title, text, tokenize='{TOKENIZE}')")
        conn.execute("SELECT * FROM t WHERE t MATCH ?", (query,)).fetchall()
    except sqlite3.OperationalError as exc:
        raise QueryError(f"bad query {query!r}: {exc}") from None
    finally:
        conn.close()


def match_article(
    conn: sqlite3.Connection, article_id: int, watches: Iterable[tuple[str, str]]
) -> list[Match]:
    """Run every (name, query) watch against one stored article; return those that match.

    The article must already be in ``articles_fts`` (the insert triggers keep it there, also
    inside an open transaction).
    """
    found = []
    for name, query in watches:
        row = conn.execute(
            "SELECT snippet(articles_fts, -1, ?, ?, '…', ?) FROM articles_fts "
            "WHERE rowid = ? AND articles_fts MATCH ?",
            (HIGHLIGHT_OPEN, HIGHLIGHT_CLOSE, _SNIPPET_TOKENS, article_id, query),
        ).fetchone()
        if row is not None:
            found.append(Match(name, row[0]))
    return found
