"""The headline: the visible heading that agrees with the metadata, entities decoded, the
site's name cut off."""

from __future__ import annotations

import lxml.html
import pytest

from crawler.extract.metadata import page_metadata
from crawler.extract.titles import (
    agreement,
    decode_entities,
    headline,
    names_site,
    split_affix,
    strip_site,
)

URL = "https://www.golem.de/news/some-story-2304-1.html"


def tree(body: str, head: str = "") -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("Daten zerst&ouml;ren", "Daten zerstören"),
        ("&amp;quot;Quoted&amp;quot; words", '"Quoted" words'),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
        ("AT&T and R&D stay", "AT&T and R&D stay"),
        ("Caf&#233; &#x2014; bar", "Café — bar"),
    ],
)
def test_entities_are_decoded_also_when_encoded_twice(raw: str, decoded: str) -> None:
    assert decode_entities(raw) == decoded


@pytest.mark.parametrize(
    ("title", "names", "url", "expected"),
    [
        ("Chip shortage ends - Golem.de", set(), URL, "Chip shortage ends"),
        ("Golem.de: Chip shortage ends | Golem.de", set(), URL, "Golem.de: Chip shortage ends"),
        ("Floods in the north | DW | 28.04.2023", {"DW"}, "https://www.dw.com/en/x",
         "Floods in the north"),
        ("Caliber.Az - Corridor opens", {"Caliber.Az"}, None, "Corridor opens"),
        ("Corridor opens – Kestrel Valley Gazette", {"Kestrel Valley Gazette"}, None,
         "Corridor opens"),
        ("The Guardian view on Hong Kong | Editorial", {"the Guardian"}, None,
         "The Guardian view on Hong Kong | Editorial"),
        ("Rates - what next for borrowers", set(), "https://bank.example/",
         "Rates - what next for borrowers"),
    ],
)  # fmt: skip
def test_the_site_name_is_cut_off(
    title: str, names: set[str], url: str | None, expected: str
) -> None:
    assert strip_site(title, names, url) == expected


def test_a_learned_affix_is_cut_even_when_nothing_else_names_the_site() -> None:
    title = "Poachers arrested ‹ Wara Conservation Project"
    assert strip_site(title, set(), "https://wara.example/") == title
    assert strip_site(title, set(), None, [" ‹ Wara Conservation Project"]) == "Poachers arrested"


def test_split_affix_gives_the_first_and_last_parts() -> None:
    assert split_affix("A | B | Site") == ("A | ", " | Site")
    assert split_affix("No separator") == ("", "")


def test_names_site_matches_host_labels_and_close_names_only() -> None:
    assert names_site("DW", set(), "https://www.dw.com/de/x")
    assert names_site("Spiegel Online", {"Spiegel"}, None)
    assert not names_site("The Guardian view on Hong Kong", {"the Guardian"}, None)
    assert not names_site("News", set(), "https://news.example.com/")


def test_agreement_is_shared_words() -> None:
    assert agreement("Oil prices edge higher", "Oil prices edge higher | Site") > 0.8
    assert agreement("Oil prices edge higher", "Menu") == 0


def test_the_visible_heading_wins_over_the_seo_title() -> None:
    page = tree(
        "<h1 class='logo'>News.az</h1><h1>Azerbaijan launches counteroffensive, envoy says</h1>",
        "<meta name='twitter:title' content='News.az'><meta property='og:site_name' "
        "content='News.az'><meta property='og:title' content='Azerbaijan launches "
        "counteroffensive, envoy says - SEO words'>",
    )
    md = page_metadata(page, url="https://news.az/news/x")
    assert md.title == "Azerbaijan launches counteroffensive, envoy says"


def test_a_heading_with_a_kicker_run_into_it_gives_the_metadata_title() -> None:
    page = tree(
        "<h1><span>Frain</span>Incendie dans une maison : cinq personnes relogées</h1>",
        "<meta property='og:title' content='Incendie dans une maison : cinq personnes relogées'>",
    )
    found = headline(page, ["Incendie dans une maison : cinq personnes relogées"], set())
    assert found.text == "Incendie dans une maison : cinq personnes relogées"
    assert found.element is not None


def test_metadata_title_without_agreeing_heading_is_stripped_and_decoded() -> None:
    page = tree(
        "<h1>Menu</h1>",
        "<meta property='og:site_name' content='EQMint'>"
        "<meta property='og:title' content='Gold slips &amp;amp; dollar firms - EQMint'>",
    )
    assert (
        page_metadata(page, url="https://eqmint.example/gold/").title == "Gold slips & dollar firms"
    )


def test_without_metadata_the_first_heading_beats_the_title_element() -> None:
    page = tree("<h1>About us</h1>", "<title>Site</title>")
    assert page_metadata(page).title == "About us"
    assert page_metadata(tree("<p>x</p>", "<title>Only a title | example.org</title>"),
                         url="https://example.org/a").title == "Only a title"  # fmt: skip


def test_a_reworded_seo_title_gives_way_to_the_visible_headline() -> None:
    page = tree(
        "<h1>Taylor Swift is allowed to play her music at the AMAs after all</h1>",
        "<meta property='og:title' content=\"Taylor Swift's AMA row seems to be over\">",
    )
    assert (
        page_metadata(page).title
        == "Taylor Swift is allowed to play her music at the AMAs after all"
    )
    section = tree("<h1>Sport</h1>", "<meta property='og:title' content='Sport star retires'>")
    assert page_metadata(section).title == "Sport star retires"  # a one-word h1 is a label
