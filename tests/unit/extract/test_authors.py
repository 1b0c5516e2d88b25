"""Bylines: person names only."""

from __future__ import annotations

import json

import lxml.html
import pytest

from crawler.extract.authors import clean_names
from crawler.extract.metadata import page_metadata


def tree(body: str = "", head: str = "") -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


def ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


@pytest.mark.parametrize(
    ("raw", "names"),
    [
        (["By Jane Doe and John Roe"], ["Jane Doe", "John Roe"]),
        (["Von Anna Müller, Berlin 12.03.2023"], ["Anna Müller"]),
        (["Author: Neha Gupta | EQMint | Finance News"], ["Neha Gupta"]),
        (["d.kuckelkorn@example.de"], []),
        (["Deutsche Welle (www.dw.com)"], []),
        (["https://news.example/authors/7"], []),
        (["Jane Doe, Senior Political Reporter"], ["Jane Doe"]),
        (["Louis Jacobson on Monday"], ["Louis Jacobson"]),
        (["Reuters"], []),
        (["Staff Writer"], []),
        (["The Electronic Frontier Foundation"], []),
        (["Carlos Nadalim", "Sobre Carlos Nadalim"], ["Carlos Nadalim"]),
        (["Olivia Di Maio"], ["Olivia Di Maio"]),
        (["Олеся Жуковень"], ["Олеся Жуковень"]),
    ],
)
def test_byline_strings_give_person_names(raw: list[str], names: list[str]) -> None:
    assert clean_names(raw) == names


def test_the_sites_and_publishers_names_are_never_authors() -> None:
    assert clean_names(["Caliber Az"], ["Caliber.Az"]) == []
    assert clean_names(["Golem Redaktion"], [], "https://www.golem.de/x") == []


def test_json_ld_persons_with_references_and_no_organisations() -> None:
    graph = {
        "@graph": [
            {
                "@type": "NewsArticle",
                "headline": "Sensex closes higher",
                "author": [
                    {"@id": "https://x.example/#/person/neha"},
                    {"@type": "Organization", "name": "EQMint Desk"},
                ],
            },
            {"@type": "Person", "@id": "https://x.example/#/person/neha", "name": "Neha Gupta"},
        ]
    }
    md = page_metadata(tree(head=ld(graph)), url="https://x.example/sensex/")
    assert md.author == "Neha Gupta"


def test_meta_author_that_is_the_publisher_falls_through_to_the_byline() -> None:
    page = tree(
        "<h1>Floods in the north</h1><div class='meta'><p>By Maria Schmidt</p></div>"
        "<p>Body text of the story that goes on for a while.</p>",
        '<meta name="author" content="Deutsche Welle"><meta property="og:site_name" '
        'content="Deutsche Welle"><meta property="og:title" content="Floods in the north">',
    )
    assert page_metadata(page, url="https://www.dw.com/en/floods").author == "Maria Schmidt"


def test_rel_author_links_give_names() -> None:
    page = tree(
        '<h1>Ferry adds sailings</h1><p class="byline">By <a rel="author" href="/a/mh">Maren '
        'Holt</a> · <time datetime="2025-11-14T07:45:00+00:00">14 November 2025</time></p>'
    )
    assert page_metadata(page).author == "Maren Holt"


def test_a_publisher_after_the_person_is_dropped_but_a_blog_keeps_its_author() -> None:
    from crawler.extract.authors import clean_names

    sputnik = "https://sputniknews.com/world/story/"
    assert clean_names(["Finian Cunningham. Sputnik International"], [], sputnik) == [
        "Finian Cunningham"
    ]
    assert clean_names(["Sarah E. Needleman"], [], "https://wsj.com/a") == ["Sarah E. Needleman"]
    assert clean_names(["Paula Smith and John Doe"], [], "https://paulasblog.com/a") == [
        "Paula Smith",
        "John Doe",
    ]


def test_a_name_in_capitals_is_written_as_a_reader_writes_it() -> None:
    from crawler.extract.authors import clean_names

    assert clean_names(["By TOM KRISHER"], [], "https://apnews.com/a") == ["Tom Krisher"]
    assert clean_names(["JEAN-LUC O'NEIL"], [], None) == ["Jean-Luc O'Neil"]
