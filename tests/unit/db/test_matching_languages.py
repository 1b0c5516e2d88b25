"""Watches across languages and scripts: aliases, per-language stemming, CJK substrings, the
form that matched and its highlight, search over every language, the re-indexing migration."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from crawler.db import connect, queries, transaction
from crawler.db.matching import WatchQuery, match_article
from crawler.db.stories import SaveContext, save_story
from crawler.dedup.fingerprints import body_hash, content_hash
from crawler.story import Story

TAKAICHI = WatchQuery(
    "takaichi", "Takaichi", ("Такаити", "Такаичи", "Takaiçi", "高市早苗", "高市首相", "高市")
)
RARE_EARTHS = WatchQuery(
    "rare-earths",
    '"rare earths"',
    ('"редкоземельные металлы"', '"nadir torpaq elementləri"', "レアアース", "稀土", "희토류"),
)
WATCHES = [RARE_EARTHS, TAKAICHI]


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    return connect(tmp_path / "m.db")


def save(db: sqlite_utils.Database, language: str | None, title: str, text: str) -> int:
    story = Story(url=f"https://x.test/{abs(hash(title + text))}", site="x", title=title, text=text)
    story.language = language
    story.content_hash = content_hash(title, text)
    story.body_hash = body_hash(text)
    with transaction(db):
        return save_story(db, story, SaveContext(watches=WATCHES, channels=())).article_id


def matched(db: sqlite_utils.Database, article_id: int) -> dict[str, tuple[str, str]]:
    """watch -> (matched form, snippet) as stored."""
    rows = db.execute(
        "SELECT watch, matched_form, snippet FROM matches WHERE article_id = ?", (article_id,)
    )
    return {watch: (form, snippet) for watch, form, snippet in rows}


@pytest.mark.parametrize(
    ("language", "text", "watch", "form", "marked"),
    [
        ("ru", "Экспорт редкоземельных металлов вырос.", "rare-earths",
         '"редкоземельные металлы"', "**редкоземельных металлов**"),
        ("ru", "Спрос на редкоземельные металлы растёт.", "rare-earths",
         '"редкоземельные металлы"', "**редкоземельные металлы**"),
        ("ru", "Инвестиции в добычу редкоземельным металлам помогут.", "rare-earths",
         '"редкоземельные металлы"', "**редкоземельным металлам**"),
        ("ru", "Премьер Санаэ Такаити выступила в парламенте.", "takaichi", "Такаити",
         "**Такаити**"),
        ("az", "Nadir torpaq elementlərinin hasilatı artır.", "rare-earths",
         '"nadir torpaq elementləri"', "**Nadir torpaq elementlərinin**"),
        ("az", "Baş nazir Takaiçinin çıxışı diqqət çəkib.", "takaichi", "Takaiçi",
         "**Takaiçinin**"),
        ("ja", "日本の高市早苗首相は会見で述べた。", "takaichi", "高市早苗", "**高市早苗**"),
        ("ja", "政府はレアアースの供給網を強化する。", "rare-earths", "レアアース",
         "**レアアース**"),
        ("zh", "中国限制稀土出口。", "rare-earths", "稀土", "**稀土**"),
        ("ko", "정부는 희토류를 비축한다.", "rare-earths", "희토류", "**희토류**"),
    ],
)  # fmt: skip
def test_a_story_in_any_language_matches_through_its_alias_with_the_form_marked(
    db: sqlite_utils.Database, language: str, text: str, watch: str, form: str, marked: str
) -> None:
    article_id = save(db, language, "Новости", text)
    found = matched(db, article_id)
    assert set(found) == {watch}
    assert found[watch][0] == form
    assert marked in found[watch][1]
    assert found[watch][1].replace("**", "") == text  # the story as written


def test_a_short_cjk_name_is_found_inside_running_text(db: sqlite_utils.Database) -> None:
    only_short = [WatchQuery("takaichi", "Takaichi", ("高市",))]
    article_id = save(db, "ja", "首相会見", "会見で高市氏は述べた。")
    (match,) = match_article(db.conn, article_id, only_short)
    assert match.form == "高市" and "**高市**氏" in match.snippet


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("ru", "Цены на редкие металлы и земельные участки выросли."),
        ("ru", "В Баку открылся форум по кибербезопасности."),
        ("az", "Nadir hallarda torpaq sürüşməsi baş verir."),
        ("az", "Azərbaycan və Özbəkistan saziş imzalayıb."),
        ("ja", "市場では高値が続き、アースデイの催しもあった。"),
        ("zh", "土地价格稳定。"),
    ],
)
def test_unrelated_stories_in_other_languages_match_nothing(
    db: sqlite_utils.Database, language: str, text: str
) -> None:
    assert matched(db, save(db, language, "Новости", text)) == {}


def test_the_query_is_tried_first_and_recorded_when_it_matches(db: sqlite_utils.Database) -> None:
    article_id = save(db, "ru", "Takaichi в Токио", "Такаити прибыла в Токио.")
    assert matched(db, article_id)["takaichi"][0] == "Takaichi"


def test_english_stories_match_as_before_and_find_cjk_aliases(db: sqlite_utils.Database) -> None:
    english = save(db, "en", "Minerals", "A new rare-earth refinery opens.")
    assert matched(db, english)["rare-earths"][0] == '"rare earths"'
    assert "**rare-earth**" in matched(db, english)["rare-earths"][1]
    quoted = save(db, "en", "Tokyo", "The prime minister (高市早苗) spoke on Monday.")
    assert matched(db, quoted)["takaichi"] == (
        "高市早苗",
        "The prime minister (**高市早苗**) spoke on Monday.",
    )


def test_diacritics_are_folded_in_other_languages_too(db: sqlite_utils.Database) -> None:
    article_id = save(db, "az", "Siyasət", "Takaiçi Tokioda danışıb.")
    (match,) = match_article(db.conn, article_id, [WatchQuery("t", "Takaici")])
    assert match.snippet.startswith("**Takaiçi**")


def test_an_edited_story_is_matched_on_its_new_text(db: sqlite_utils.Database) -> None:
    url = "https://x.test/edited"
    for text in ("Форум открылся.", "Форум обсудил редкоземельные металлы."):
        story = Story(url=url, site="x", title="Форум", text=text, language="ru")
        story.content_hash = content_hash("Форум", text)
        with transaction(db):
            saved = save_story(db, story, SaveContext(watches=WATCHES, channels=()))
    assert saved.matched == ("rare-earths",)
    assert db.execute("SELECT count(*) FROM articles_stemmed").fetchone()[0] == 1


def test_search_finds_every_language_by_its_own_rules(db: sqlite_utils.Database) -> None:
    ru = save(db, "ru", "Металлы", "Экспорт редкоземельных металлов вырос.")
    ja = save(db, "ja", "首相", "高市早苗首相が会見した。")
    en = save(db, "en", "Minerals", "Rare earth magnets.")
    assert [r["id"] for r in queries.search(db, '"редкоземельные металлы"')] == [ru]
    (hit,) = queries.search(db, "高市")
    assert hit["id"] == ja and "**高市**早苗" in hit["snippet"]
    assert [r["id"] for r in queries.search(db, '"rare earths"')] == [en]
    assert {r["id"] for r in queries.search(db, '"rare earths" OR Такаити OR 高市')} == {en, ja}


def test_a_deleted_story_leaves_the_index(db: sqlite_utils.Database) -> None:
    article_id = save(db, "ru", "Металлы", "Редкоземельные металлы.")
    with transaction(db):
        db.execute("DELETE FROM article_versions WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM matches WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM article_signatures WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM lsh_bands WHERE article_id = ?", (article_id,))
        db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
    assert db.execute("SELECT count(*) FROM articles_stemmed").fetchone()[0] == 0


def test_a_mixed_script_form_on_an_english_story_matches_when_either_script_does(
    db: sqlite_utils.Database,
) -> None:
    article_id = save(db, "en", "Meeting", "The cabinets met on Monday.")
    (match,) = match_article(db.conn, article_id, [WatchQuery("w", "高市早苗 OR cabinet")])
    assert match.snippet == "The **cabinets** met on Monday."
