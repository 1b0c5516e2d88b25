"""Watch matching with SQLite FTS5 over title + body, in every language a site publishes.

A watch is a query and its aliases (the topic's names in other languages and scripts), each
in FTS5 syntax; a story matches when any of these forms does, and the match records the first
form that did. Two indexes answer:

- ``articles_fts`` (porter stemming over unicode61, diacritics removed) for stories in English
  or an unknown language: ``"rare earths"`` matches "rare earth", "Rare Earths" and
  "rare-earth", exactly as before aliases and languages existed;
- ``articles_stemmed`` for every story, analysed in Python (``crawler.db.analysis``): words
  stemmed with the Snowball stemmer of the story's language, Japanese, Chinese and Korean cut
  into character pairs (for English stories only these pairs). A form runs there, with its
  terms analysed the same way (``crawler.db.fts_query``), for a story in another language, or
  when it holds CJK text (on an English story such a form runs on both indexes, and matches
  when either does: ``高市 OR Takaichi`` works, ``高市 AND cabinet`` cannot, so keep CJK and
  Latin words in separate aliases).

Both fold case and diacritics. Snippets mark the matched words of the story as written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from crawler.db import analysis
from crawler.db.fts_query import QuerySyntaxError, rewrite

TOKENIZE = "porter unicode61 remove_diacritics 2"
# Markers around matched words in stored snippets; renderers turn them into bold/<mark>.
HIGHLIGHT_OPEN = "**"
HIGHLIGHT_CLOSE = "**"
_SNIPPET_TOKENS = 32
# What highlight() puts around matched index tokens of articles_stemmed: control characters,
# which are never part of the analysed text.
_MARK_OPEN, _MARK_CLOSE = "\x02", "\x03"
# A column's snippet starts this many tokens before its first matched word.
_LEAD_TOKENS = 6


class QueryError(ValueError):
    """A watch query that FTS5 cannot parse."""


@dataclass(frozen=True)
class WatchQuery:
    """A watch as matching sees it: its name, its query and the aliases of the query."""

    name: str
    query: str
    aliases: tuple[str, ...] = ()

    @property
    def forms(self) -> tuple[str, ...]:
        return (self.query, *self.aliases)


@dataclass(frozen=True)
class Match:
    watch: str
    snippet: str
    form: str = ""  # the query or alias that matched


def as_watch(watch: WatchQuery | tuple[str, str]) -> WatchQuery:
    """A WatchQuery from itself or from a bare ``(name, query)`` pair."""
    return watch if isinstance(watch, WatchQuery) else WatchQuery(watch[0], watch[1])


def validate_query(query: str) -> None:
    """Raise QueryError if ``query`` is not a valid FTS5 query, on either index."""
    if not query.strip():
        raise QueryError("empty query")
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"CREATE VIRTUAL TABLE t USING fts5(title, text, tokenize='{TOKENIZE}')")
        conn.execute(
            'CREATE VIRTUAL TABLE s USING fts5(title, text, tokenize="'
            + analysis.TOKENIZE.replace('"', '""')
            + '")'
        )
        conn.execute("SELECT * FROM t WHERE t MATCH ?", (query,)).fetchall()
        for analyzer in ("russian", analysis.CJK):
            conn.execute("SELECT * FROM s WHERE s MATCH ?", (rewrite(query, analyzer),))
    except (sqlite3.OperationalError, QuerySyntaxError) as exc:
        raise QueryError(f"bad query {query!r}: {exc}") from None
    finally:
        conn.close()


def index_article(
    conn: sqlite3.Connection, article_id: int, title: str, text: str, language: str | None
) -> None:
    """(Re)write a story's row of ``articles_stemmed``; call in the transaction that writes
    the story."""
    analyzer = analysis.analyzer_for(language)
    conn.execute("DELETE FROM articles_stemmed WHERE rowid = ?", (article_id,))
    conn.execute(
        "INSERT INTO articles_stemmed (rowid, title, text, analyzer) VALUES (?, ?, ?, ?)",
        (
            article_id,
            analysis.index_text(title or "", analyzer),
            analysis.index_text(text or "", analyzer),
            analyzer,
        ),
    )


def match_article(
    conn: sqlite3.Connection,
    article_id: int,
    watches: Iterable[WatchQuery | tuple[str, str]],
) -> list[Match]:
    """Run every watch (its query, then each alias) against one stored article; return the
    watches that match, each with the first form that did and a snippet of it.

    The article must be in ``articles`` (the insert triggers keep ``articles_fts`` in step;
    ``articles_stemmed`` is written here if the story has no row there yet).
    """
    return match_articles(conn, [article_id], watches)[article_id]


def match_articles(
    conn: sqlite3.Connection,
    article_ids: Iterable[int],
    watches: Iterable[WatchQuery | tuple[str, str]],
) -> dict[int, list[Match]]:
    """``match_article`` for many articles (a batch being stored): each watch form runs once
    over all of them, and only the articles it matches are asked for its snippet.

    Asking FTS5 whether one row matches costs nearly what asking it for every matching row
    of a range of ids costs (the terms' lists are read either way), so one query per form
    and batch replaces one per form and story. Each article's matches come in the order of
    the watches."""
    ids = sorted(set(article_ids))
    found: dict[int, list[Match]] = {article_id: [] for article_id in ids}
    analyzers = {article_id: _analyzer_of(conn, article_id) for article_id in ids}
    for watch in map(as_watch, watches):
        unmatched = set(ids)
        for form in watch.forms:
            if not unmatched:
                break
            for article_id in sorted(_candidates(conn, form, unmatched, analyzers)):
                snippet = match_form(conn, article_id, form, analyzers[article_id])
                if snippet is not None:
                    found[article_id].append(Match(watch.name, snippet, form))
                    unmatched.discard(article_id)
    return found


# Ids further apart than this are looked up in separate rowid ranges: a batch holds new
# stories (consecutive ids) and edited ones (old ids), and a range spanning both would read
# every row between them.
_RANGE_GAP = 512


def _candidates(
    conn: sqlite3.Connection, form: str, ids: set[int], analyzers: dict[int, str]
) -> set[int]:
    """The ``ids`` that ``form`` matches on the index ``match_form`` runs it on for each."""
    english = {i for i in ids if analysis.uses_english_index(analyzers[i])}
    hits = _matching_rows(conn, "articles_fts", form, english)
    cjk = analysis.has_cjk(form)
    by_analyzer: dict[str, set[int]] = {}
    for article_id in ids:
        if article_id not in english or cjk:
            by_analyzer.setdefault(analyzers[article_id], set()).add(article_id)
    for analyzer, group in by_analyzer.items():
        hits |= _matching_rows(conn, "articles_stemmed", rewrite(form, analyzer), group)
    return hits


def _matching_rows(conn: sqlite3.Connection, table: str, query: str, ids: set[int]) -> set[int]:
    """The rows among ``ids`` of an FTS5 ``table`` that ``query`` matches."""
    found: set[int] = set()
    ordered = sorted(ids)
    start = 0
    for end in range(1, len(ordered) + 1):
        if end < len(ordered) and ordered[end] - ordered[end - 1] <= _RANGE_GAP:
            continue
        rows = conn.execute(
            f"SELECT rowid FROM {table} WHERE {table} MATCH ? AND rowid BETWEEN ? AND ?",
            (query, ordered[start], ordered[end - 1]),
        )
        found.update(row[0] for row in rows)
        start = end
    return found & ids


def match_form(conn: sqlite3.Connection, article_id: int, form: str, analyzer: str) -> str | None:
    """The snippet of one query form in one story, or None when it does not match."""
    if analysis.uses_english_index(analyzer):
        row = conn.execute(
            "SELECT snippet(articles_fts, -1, ?, ?, '…', ?) FROM articles_fts "
            "WHERE rowid = ? AND articles_fts MATCH ?",
            (HIGHLIGHT_OPEN, HIGHLIGHT_CLOSE, _SNIPPET_TOKENS, article_id, form),
        ).fetchone()
        if row is not None or not analysis.has_cjk(form):
            return None if row is None else str(row[0])
    marked = conn.execute(
        "SELECT highlight(articles_stemmed, 0, ?, ?), highlight(articles_stemmed, 1, ?, ?) "
        "FROM articles_stemmed WHERE rowid = ? AND articles_stemmed MATCH ?",
        (_MARK_OPEN, _MARK_CLOSE, _MARK_OPEN, _MARK_CLOSE, article_id, rewrite(form, analyzer)),
    ).fetchone()
    if marked is None:
        return None
    title, text = conn.execute(
        "SELECT title, text FROM articles WHERE id = ?", (article_id,)
    ).fetchone()
    return stemmed_snippet((title or "", text or ""), marked, analyzer)


def stemmed_snippet(originals: Sequence[str], marked: Sequence[str], analyzer: str) -> str:
    """A snippet of the story as written, from ``highlight()`` over its analysed columns:
    the column with the most matched tokens, a window of them around the first match, the
    matched words between the highlight markers."""
    best: tuple[int, str, list[analysis.Token], list[int]] | None = None
    for original, highlighted in zip(originals, marked, strict=True):
        tokens = analysis.analyse(original, analyzer)
        count, hits = _marked_positions(highlighted or "")
        # A column analysed differently than when it was indexed (a stemmer upgrade) cannot
        # be mapped back to the text; it offers no snippet.
        if hits and count == len(tokens) and (best is None or len(hits) > best[0]):
            best = (len(hits), analysis.normalize(original), tokens, hits)
    if best is None:
        return analysis.normalize(originals[0])[:200]
    _, text, tokens, hits = best
    start, end = _window(tokens, hits[0])
    # A window reaching an end of the column keeps the punctuation there, as FTS5 does.
    pieces, cursor = [], tokens[start].start if start > 0 else 0
    for first, last in _runs([h for h in hits if start <= h < end]):
        a, b = tokens[first].start, tokens[last].end
        pieces += [text[cursor:a], HIGHLIGHT_OPEN, text[a:b], HIGHLIGHT_CLOSE]
        cursor = b
    pieces.append(text[cursor : tokens[end - 1].end] if end < len(tokens) else text[cursor:])
    return ("…" if start > 0 else "") + "".join(pieces) + ("…" if end < len(tokens) else "")


def _window(tokens: list[analysis.Token], first_hit: int) -> tuple[int, int]:
    """The tokens ``[start, end)`` a snippet shows: about _SNIPPET_TOKENS words from a few
    before the first match. A CJK character pair counts as a third of a word, so that a
    Japanese snippet shows as much as an English one."""

    def cost(i: int) -> int:
        return 1 if analysis.has_cjk(tokens[i].term) else 3

    start, spent = first_hit, 0
    while start > 0 and spent + cost(start - 1) <= 3 * _LEAD_TOKENS:
        start -= 1
        spent += cost(start)
    end, spent = start, 0
    while end < len(tokens) and spent + cost(end) <= 3 * _SNIPPET_TOKENS:
        spent += cost(end)
        end += 1
    while start > 0 and spent + cost(start - 1) <= 3 * _SNIPPET_TOKENS:  # near the end
        start -= 1
        spent += cost(start)
    return start, max(end, first_hit + 1)


def search_stemmed(
    conn: sqlite3.Connection, query: str, limit: int | None = None
) -> list[tuple[int, float, str]]:
    """(article id, rank, snippet) of every story ``query`` matches, each on the index its
    language is matched on (as ``match_article`` does), best first."""
    # English stories on the porter index, as watches run on them.
    rows = conn.execute(
        "SELECT f.rowid, f.rank, snippet(articles_fts, -1, '**', '**', '…', 24) "
        "FROM articles_fts f WHERE articles_fts MATCH ? AND coalesce((SELECT s.analyzer "
        "FROM articles_stemmed s WHERE s.rowid = f.rowid), ?) = ?",
        (query, analysis.ENGLISH, analysis.ENGLISH),
    )
    hits = [(int(i), float(r), str(s)) for i, r, s in rows]
    analyzers = [r[0] for r in conn.execute("SELECT DISTINCT analyzer FROM articles_stemmed")]
    for analyzer in analyzers:
        if analysis.uses_english_index(analyzer) and not analysis.has_cjk(query):
            continue
        hits += _search_analyzer(conn, query, analyzer)
    best: dict[int, tuple[int, float, str]] = {}
    for hit in sorted(hits, key=lambda hit: (hit[1], -hit[0])):
        best.setdefault(hit[0], hit)  # an English story found on both indexes: once
    found = list(best.values())
    return found[:limit] if limit else found


def _search_analyzer(
    conn: sqlite3.Connection, query: str, analyzer: str
) -> list[tuple[int, float, str]]:
    rows = conn.execute(
        "SELECT s.rowid, s.rank, highlight(articles_stemmed, 0, ?, ?), "
        "highlight(articles_stemmed, 1, ?, ?), a.title, a.text "
        "FROM articles_stemmed s JOIN articles a ON a.id = s.rowid "
        "WHERE articles_stemmed MATCH ? AND s.analyzer = ?",
        (_MARK_OPEN, _MARK_CLOSE, _MARK_OPEN, _MARK_CLOSE, rewrite(query, analyzer), analyzer),
    ).fetchall()
    return [
        (int(i), float(rank), stemmed_snippet((t or "", x or ""), (ht, hx), analyzer))
        for i, rank, ht, hx, t, x in rows
    ]


def _analyzer_of(conn: sqlite3.Connection, article_id: int) -> str:
    """The analyzer the story is indexed with, indexing it first if it is not yet."""
    row = conn.execute(
        "SELECT analyzer FROM articles_stemmed WHERE rowid = ?", (article_id,)
    ).fetchone()
    if row is not None:
        return str(row[0])
    story = conn.execute(
        "SELECT title, text, language FROM articles WHERE id = ?", (article_id,)
    ).fetchone()
    if story is None:
        return analysis.ENGLISH
    index_article(conn, article_id, *story)
    return analysis.analyzer_for(story[2])


def _marked_positions(highlighted: str) -> tuple[int, list[int]]:
    """How many tokens an analysed column has, and which of them ``highlight()`` marked
    (tokens are space-separated and never contain the markers, which sit around tokens)."""
    pieces = highlighted.split(" ") if highlighted else []
    positions, inside = [], False
    for i, piece in enumerate(pieces):
        if inside or _MARK_OPEN in piece:
            positions.append(i)
        if _MARK_OPEN in piece or _MARK_CLOSE in piece:
            inside = piece.rfind(_MARK_OPEN) > piece.rfind(_MARK_CLOSE)
    return len(pieces), positions


def _runs(positions: list[int]) -> list[tuple[int, int]]:
    """Consecutive positions as (first, last) pairs: a phrase is marked once, as FTS5 does."""
    runs: list[tuple[int, int]] = []
    for p in positions:
        if runs and runs[-1][1] == p - 1:
            runs[-1] = (runs[-1][0], p)
        else:
            runs.append((p, p))
    return runs
