"""Text analysis for the multilingual index: which stemmer a story gets, words that inflect
alike share one index token, CJK text is cut into character pairs that point back at the text."""

from __future__ import annotations

import pytest

from crawler.db.analysis import analyse, analyzer_for, has_cjk, index_text


@pytest.mark.parametrize(
    ("language", "analyzer"),
    [
        ("en", "porter"),
        (None, "porter"),
        ("xx", "porter"),
        ("ru", "russian"),
        ("ru-RU", "russian"),
        ("az", "turkish-az"),
        ("tr", "turkish"),
        ("FR", "french"),
        ("de_AT", "german"),
        ("ja", "cjk"),
        ("zh-Hant", "cjk"),
        ("ko", "cjk"),
    ],
)
def test_each_language_gets_its_stemmer(language: str | None, analyzer: str) -> None:
    assert analyzer_for(language) == analyzer


@pytest.mark.parametrize(
    ("analyzer", "forms"),
    [
        ("russian", ["редкоземельные", "редкоземельных", "редкоземельным", "Редкоземельными"]),
        ("russian", ["металлы", "металлов", "металлам"]),
        ("turkish-az", ["elementləri", "elementlərinin", "elementlər"]),
        ("turkish-az", ["torpaq", "torpağın", "Torpağı"]),
        ("turkish-az", ["Takaiçi", "Takaiçinin"]),
        ("french", ["terres", "terre"]),
    ],
)
def test_inflected_forms_share_one_index_token(analyzer: str, forms: list[str]) -> None:
    assert len({index_text(form, analyzer) for form in forms}) == 1


def test_unrelated_words_keep_apart() -> None:
    assert index_text("редкие", "russian") != index_text("редкоземельные", "russian")
    assert index_text("qar", "turkish-az") != index_text("nadir", "turkish-az")


def test_turkic_capital_i_is_lowered_as_written() -> None:
    assert index_text("İSTANBUL", "turkish") == index_text("istanbul", "turkish")
    assert index_text("BAKI", "turkish-az") == index_text("bakı", "turkish-az")


def test_cjk_text_is_cut_into_pairs_that_point_back_at_the_text() -> None:
    text = "首相、高市早苗氏はレアアースについて"
    tokens = analyse(text, "cjk")
    assert [t.term for t in tokens[:3]] == ["首相", "高市", "市早"]
    assert all(text[t.start : t.end] == t.term for t in tokens)
    assert "レア アア アー ース" in " ".join(t.term for t in tokens)


def test_latin_words_inside_cjk_text_are_words_of_their_own() -> None:
    tokens = analyse("G7首脳とTakaichi氏", "cjk")
    assert [t.term for t in tokens] == ["g7", "首脳", "脳と", "takaichi", "氏"]


def test_full_and_half_width_forms_index_as_usual_forms() -> None:
    assert index_text("ｶﾀｶﾅ", "cjk") == index_text("カタカナ", "cjk")
    assert index_text("Ｔａｋａｉｃｈｉ", "russian") == "takaichi"


def test_has_cjk() -> None:
    assert has_cjk("稀土") and has_cjk("レアアース") and has_cjk("희토류")
    assert not has_cjk("Такаити Takaiçi rare earths")
