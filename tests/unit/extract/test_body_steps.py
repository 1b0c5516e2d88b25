"""Body extraction steps that must hold on pages never seen: recovery of the article text
precision mode cut, and widget removal that spares articles in oddly named wrappers."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import lxml.html
import pytest
from lxml import etree

from crawler.extract import body as extraction
from crawler.extract.body import BodyOptions, extract_blocks
from crawler.extract.containers import BlockIndex, container, signature, text_after, text_key

DATES = Path(__file__).resolve().parents[4] / "shared" / "data" / "dates-dev"

SENTENCES = [
    f"Paragraph {n} of the story tells how the county board debated the flood plan at length, "
    f"with residents and officials weighing costs, risks and the schedule of the works ({n})."
    for n in range(8)
]


def test_blocks_are_found_in_the_page_and_their_container_is_the_article() -> None:
    tree = lxml.html.document_fromstring(
        "<html><body><nav><p>Menu entry one</p><p>Menu entry two</p></nav><article>"
        + "".join(f"<div class='para'><p>{s}</p></div>" for s in SENTENCES[:3])
        + "</article><aside><p>Rail item</p><p>Another rail item</p></aside></body></html>"
    )
    index = BlockIndex(tree)
    first, last = index.deepest(SENTENCES[0]), index.deepest(SENTENCES[2])
    assert first is not None and first.tag == "p" and last is not None
    assert container([first, last]).tag == "article"  # type: ignore[union-attr]
    assert container([first]).tag == "article"  # type: ignore[union-attr]  # two paragraphs
    assert signature(first) == ("p", "", "div", "para")
    assert index.position(first) < index.position(last)
    assert text_after(first, 40).startswith("Paragraph 1")


def test_recovery_adds_only_text_from_the_article_region_in_page_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = (
        "<html><body><article>"
        + "".join(f"<div class='para'><p>{s}</p></div>" for s in SENTENCES)
        + "</article><aside><p>Read our other story about trams in the city centre, a long "
        "teaser that balanced mode picked up from the rail next to the article.</p>"
        "<p><a href='/x'>A headline that is only a link to another story on the site</a></p>"
        "</aside></body></html>"
    )
    balanced = etree.Element("body")
    for text in [
        *SENTENCES,
        "Read our other story about trams in the city centre, a long teaser that balanced "
        "mode picked up from the rail next to the article.",
        "A headline that is only a link to another story on the site",
    ]:
        etree.SubElement(balanced, "p").text = text

    def fake_run(tree: object, url: object, favor_precision: bool, fast: bool = False) -> object:
        if favor_precision:  # precision mode keeps two paragraphs of eight
            body = etree.Element("body")
            for text in SENTENCES[4:6]:
                etree.SubElement(body, "p").text = text
            return body
        return balanced

    monkeypatch.setattr(extraction, "_trafilatura_run", fake_run)
    assert extract_blocks(page) == SENTENCES
    assert extract_blocks(page, options=BodyOptions(recover=False)) == SENTENCES[4:6]


@pytest.mark.skipif(not (DATES / "html").is_dir(), reason="dates-dev data set not found")
def test_recovery_on_a_real_page_where_precision_mode_kept_one_paragraph() -> None:
    # Baltimore Sun: every paragraph in its own box; precision mode kept 1 paragraph of 18.
    html = gzip.decompress((DATES / "html" / "d0367.html.gz").read_bytes())
    blocks = extract_blocks(html)
    assert len(blocks) >= 15
    assert blocks[0].startswith("The U.S. Army Corps of Engineers will hold a virtual meeting")
    assert len(extract_blocks(html, options=BodyOptions(recover=False))) == 1


def test_an_article_in_a_wrapper_named_like_a_share_widget_is_kept() -> None:
    # The wrapper holds under a quarter of the page's paragraph text: the share guard alone
    # would not save it.
    other_stories = "".join(
        f"<p><a href='/s/{n}'>Teaser headline number {n} about another story of the day</a></p>"
        for n in range(45)
    )
    page = (
        "<html><body><main><h1>Flood plan debated</h1><div class='sr-body-share-wrapper'>"
        + "".join(f"<p>{s}</p>" for s in SENTENCES[:4])
        + f"</div></main><div class='more'>{other_stories}</div>"
        "<div class='share-bar'><p>Share on Facebook</p></div></body></html>"
    )
    text = "\n\n".join(extract_blocks(page))
    assert SENTENCES[0] in text and SENTENCES[3] in text
    old = BodyOptions(widget_max_prose=10**6)
    assert SENTENCES[0] not in "\n\n".join(extract_blocks(page, options=old))


@pytest.mark.parametrize(
    "text",
    [
        "Hello, World!  It's 3:45 p.m. -- snake_case & CamelCase\t(tabs)\n\nnew lines",
        "__init__ ... [1] {x} <b>tags</b> a/b\\c |pipes| ~tilde` 'quote' \"dq\"",
        "",
        " .,;:!? ",
        "Ünïcödé wörds, Ελληνικά και 日本語のテキスト",
    ],
)
def test_a_text_key_is_its_lower_case_words_whatever_the_script(text: str) -> None:
    # ASCII text takes a faster path than the regular expression; the key must not differ.
    assert text_key(text) == " ".join(re.findall(r"\w+", text.lower()))
