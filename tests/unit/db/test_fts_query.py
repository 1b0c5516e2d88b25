"""FTS5 queries rewritten for the multilingual index: terms analysed like the stories,
operators, columns and NEAR distances left as written."""

from __future__ import annotations

import pytest

from crawler.db.fts_query import QuerySyntaxError, rewrite


@pytest.mark.parametrize(
    ("query", "analyzer", "expected"),
    [
        ('"редкоземельные металлы"', "russian", '"редкоземельн металл"'),
        ("Такаити", "russian", '"такаит"'),
        ('"nadir torpaq elementləri"', "turkish-az", '"nadir torpak element"'),
        ("レアアース", "cjk", '"レア アア アー ース"'),
        ("高市 OR 稀土", "cjk", '"高市" OR "稀土"'),
        ("高市早苗", "cjk", '"高市 市早 早苗"'),
        ("市", "cjk", '"市" *'),
        ("NEAR(металлы цены, 3)", "russian", 'NEAR("металл" "цен", 3)'),
        ("title:металлы AND {title text}: нефть", "russian",
         'title:"металл" AND {title text}: "нефт"'),
        ("редкоземельн* NOT (золото OR серебро)", "russian",
         '"редкоземельн"* NOT ("золот" OR "серебр")'),
        ('^"a ""quoted"" word" + b', "russian", '^"a quoted word" + "b"'),
    ],
)  # fmt: skip
def test_terms_are_analysed_and_syntax_kept(query: str, analyzer: str, expected: str) -> None:
    assert rewrite(query, analyzer) == expected


def test_a_prefix_keeps_its_last_word_as_written() -> None:
    # A stemmer would cut "металлург*" to a stem that no longer is the prefix typed.
    assert rewrite('"редкоземельные металлург"*', "russian") == '"редкоземельн металлург"*'


@pytest.mark.parametrize("query", ['"unclosed', 'a "b', "a . b", "a; b"])
def test_text_fts5_rejects_is_rejected(query: str) -> None:
    with pytest.raises(QuerySyntaxError):
        rewrite(query, "russian")
