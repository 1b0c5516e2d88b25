"""Watch queries: FTS5 syntax, stemming, case and diacritics folding, and bad queries."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.db import connect, transaction
from crawler.db.matching import QueryError, match_article, validate_query
from crawler.dedup.fingerprints import content_hash
from crawler.story import Story

WATCHES = [("rare-earths", '"rare earths"'), ("takaichi", "Takaichi")]


def stored(tmp_path: Path, title: str, text: str) -> tuple[object, int]:
    db = connect(tmp_path / "m.db")
    story = Story(url=f"https://x.test/{abs(hash(title))}", site="x", title=title, text=text)
    story.content_hash = content_hash(title, text)
    with transaction(db):
        cur = db.execute(
            "INSERT INTO articles (url, site, title, text, content_hash, first_seen, last_seen) "
            "VALUES (?, ?, ?, ?, ?, '', '')",
            (story.url, story.site, story.title, story.text, story.content_hash),
        )
    return db, int(cur.lastrowid)


@pytest.mark.parametrize(
    ("title", "text", "expected"),
    [
        ("Rare Earths deal signed", "Nothing else.", {"rare-earths"}),
        ("Minerals", "A new rare-earth refinery opens.", {"rare-earths"}),
        ("Minerals", "Exports of rare earth magnets rose.", {"rare-earths"}),
        ("Politics", "Takaichi's cabinet met on Monday.", {"takaichi"}),
        ("Politics", "TAKAICHI spoke; rare   earths were discussed.", {"takaichi", "rare-earths"}),
        ("Politics", "Rare metals and earths of the moon.", set()),
        ("Politics", "Ishiba resigned.", set()),
    ],
)
def test_inflections_case_and_hyphens(tmp_path: Path, title: str, text: str, expected: set) -> None:
    db, article_id = stored(tmp_path, title, text)
    assert {m.watch for m in match_article(db.conn, article_id, WATCHES)} == expected


def test_diacritics_are_folded(tmp_path: Path) -> None:
    db, article_id = stored(tmp_path, "Café society", "The São Paulo exchange fell.")
    found = match_article(db.conn, article_id, [("sp", '"sao paulo"'), ("cafe", "cafe")])
    assert {m.watch for m in found} == {"sp", "cafe"}


def test_snippet_marks_the_matched_words(tmp_path: Path) -> None:
    db, article_id = stored(tmp_path, "Minerals", "Tokyo signed a rare earths framework today.")
    (match,) = match_article(db.conn, article_id, WATCHES[:1])
    assert match.snippet == "Tokyo signed a **rare earths** framework today."


def test_operators(tmp_path: Path) -> None:
    db, article_id = stored(tmp_path, "Minerals", "Lithium and cobalt prices near record highs.")
    watches = [
        ("a", "lithium AND cobalt"),
        ("b", "lithium NOT cobalt"),
        ("c", "lith*"),
        ("d", "NEAR(lithium prices, 3)"),
        ("e", "(gold OR cobalt) AND record"),
    ]
    assert {m.watch for m in match_article(db.conn, article_id, watches)} == {"a", "c", "d", "e"}


@pytest.mark.parametrize("query", ['"unclosed', "AND", "", "NEAR(", "a OR"])
def test_bad_queries_are_rejected(query: str) -> None:
    with pytest.raises(QueryError):
        validate_query(query)
