"""Generic body extraction (crawler/extract/body.py) and the benchmark metric
(crawler/extract/evaluation.py)."""

from __future__ import annotations

import logging
import random
import time
from collections import Counter

import pytest
from lxml import etree

from crawler.extract import body as extraction
from crawler.extract.body import extract_body
from crawler.extract.evaluation import (
    Metrics,
    PageScore,
    evaluate,
    load_pages,
    metrics_from_scores,
    run_extractors,
    score_page,
    shingles,
    tokenize,
)
from crawler.extract.html import decode_html, parse_html
from tests.helpers import REPO

DATA = REPO.parent / "shared/data/aeb-dev"

# --- the metric, against hand-computed cases ---------------------------------------------


def _metrics(truth: str, pred: str) -> Metrics:
    return evaluate({"page": truth}, {"page": pred})


def test_tokens_are_word_runs_with_case_kept() -> None:
    assert tokenize("Hello, world! foo-bar 42 Привет") == [
        "Hello",
        "world",
        "foo",
        "bar",
        "42",
        "Привет",
    ]
    assert tokenize(None) == []


def test_shingles_are_a_multiset_of_four_tokens() -> None:
    assert shingles("a b c d e") == Counter({("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1})
    assert shingles("a b c d a b c d")[("a", "b", "c", "d")] == 2


def test_short_texts_are_one_shorter_shingle() -> None:
    assert shingles("a b") == Counter({("a", "b"): 1})
    assert shingles("") == Counter()
    assert _metrics("a b", "a b") == Metrics(1.0, 1.0, 1.0)
    # ("a", "b", "c") and ("a", "b", "c", "d") are different shingles.
    assert score_page("a b c", "a b c d") == PageScore(0.0, 0.5, 0.5)


def test_perfect_match() -> None:
    text = "The quick brown fox jumps over the lazy dog."
    assert score_page(text, text) == PageScore(1.0, 0.0, 0.0)
    assert _metrics(text, text) == Metrics(1.0, 1.0, 1.0)


def test_disjoint_texts() -> None:
    assert score_page("a b c d", "w x y z") == PageScore(0.0, 0.5, 0.5)
    assert _metrics("a b c d", "w x y z") == Metrics(0.0, 0.0, 0.0)


def test_partial_overlap() -> None:
    # truth: abcd bcde cdef; prediction: abcd bcde cdex -> tp 2, fp 1, fn 1 of 4.
    assert score_page("a b c d e f", "a b c d e x") == PageScore(0.5, 0.25, 0.25)
    m = _metrics("a b c d e f", "a b c d e x")
    assert m.precision == pytest.approx(2 / 3)
    assert m.recall == pytest.approx(2 / 3)
    assert m.f1 == pytest.approx(2 / 3)


def test_extra_predicted_text() -> None:
    # truth: 3 shingles, prediction: the same 3 and 2 more -> tp 3, fp 2, fn 0 of 5.
    assert score_page("a b c d e f", "a b c d e f g h") == pytest.approx(PageScore(0.6, 0.4, 0.0))
    m = _metrics("a b c d e f", "a b c d e f g h")
    assert (m.precision, m.recall) == pytest.approx((0.6, 1.0))
    assert m.f1 == pytest.approx(2 * 0.6 / 1.6)


def test_repeated_shingles_count_as_many() -> None:
    # truth: abcd twice, bcda, cdab, dabc; prediction: abcd once -> tp 1, fp 0, fn 4.
    assert score_page("a b c d a b c d", "a b c d") == pytest.approx(PageScore(0.2, 0.0, 0.8))
    assert _metrics("a b c d a b c d", "a b c d")[:2] == pytest.approx((1.0, 0.2))


def test_empty_prediction_counts_for_recall_only() -> None:
    assert score_page("a b c d e", "") == PageScore(0.0, 0.0, 1.0)
    m = evaluate({"ok": "w x y z", "missed": "a b c d e"}, {"ok": "w x y z", "missed": ""})
    assert m.precision == 1.0
    assert m.recall == 0.5
    assert m.f1 == pytest.approx(2 / 3)


def test_missing_prediction_is_an_empty_one() -> None:
    assert evaluate({"a": "a b c d"}, {}) == Metrics(0.0, 0.0, 0.0)


def test_page_with_both_texts_empty_counts_nowhere() -> None:
    truth = {"a": "w x y z", "b": ""}
    assert evaluate(truth, {"a": "w x y z", "b": ""}) == Metrics(1.0, 1.0, 1.0)
    assert metrics_from_scores([]) == Metrics(0.0, 0.0, 0.0)


# --- the benchmark path on a fixed sample of the data set ------------------------------------

# The first ten pages by id. Together they measure F1 0.993 (plain trafilatura: 0.944).
SAMPLE_IDS = (
    "042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856",
    "05844573ca7e1fba714d715bb11ca08c26e25328999c74a1cb3bc8a0e4399f0f",
    "06ee193de4bd611f7fafbab0c59b0f6fe3495093516720632cd093b24c7a0e98",
    "08f793762792bd252c75fb57544cdf506ffcc04785136cb87503f02364b82b56",
    "0d46122928b6f468cc4bbc694051d0dbae5702bc75a16dab82a99b58daf150a0",
    "0e014df693f182824fe5e24030ddbe1d0b96ddb9685cf20d5766457ed32ffa2d",
    "11ea381ad92b5448cf66eae62f52ac565361a244c8881615fc6a7bb523cc0c32",
    "156770d676ce79905198e1c8407f81e5ecfb617d9aa44712718707eb7e3b8e38",
    "1ace8c85aaee21b9d4505eca506d50c4721c29db62848b567a9703bfe0583892",
    "1f765c48780665e89cc3af1f7c9af47876e9fae9b5be4a936b0649e10f5e3198",
)
SAMPLE_MIN_F1 = 0.98


@pytest.mark.skipif(not DATA.is_dir(), reason=f"benchmark data set not found at {DATA}")
def test_benchmark_sample_keeps_its_score() -> None:
    pages = load_pages(DATA, ids=SAMPLE_IDS)
    (run,) = run_extractors(pages, {"newsmon": extract_body})
    assert run.metrics(pages).f1 >= SAMPLE_MIN_F1


# --- extraction on made-up pages ---------------------------------------------------------------

PARAGRAPHS = (
    "The city council voted on Tuesday to expand the tram network to the northern suburbs, "
    "ending a debate that had divided residents for almost a decade.",
    "Supporters said the new line would cut commuting times in half for thousands of workers, "
    "while opponents warned that construction would disrupt local shops for years.",
    "The project is expected to cost about 400 million euros, most of it covered by a loan "
    "from the regional development bank and a smaller grant from the national government.",
    "Work on the first section is due to begin next spring, with trams running by the end of "
    "the following year if the schedule holds, officials told reporters after the vote.",
    "Several neighbourhood associations have already announced that they will challenge the "
    "decision in court, arguing that the environmental assessment was rushed.",
    "The mayor dismissed those concerns, saying the city had consulted residents at more than "
    "forty public meetings and had changed the route twice in response to their objections.",
)


def _page(body: str, title: str = "Council approves tram extension", head: str = "") -> str:
    return (
        f"<!DOCTYPE html><html><head><title>{title} | The Daily Example</title>{head}</head>"
        "<body><nav><ul><li><a href='/'>Home</a></li><li><a href='/news'>News</a></li></ul></nav>"
        f"<main><article><h1>{title}</h1>{body}</article></main>"
        "<footer><p>Contact the newsroom</p></footer></body></html>"
    )


def _paragraphs(texts: tuple[str, ...] = PARAGRAPHS) -> str:
    return "".join(f"<p>{text}</p>" for text in texts)


def test_paragraphs_are_separated_by_blank_lines_and_the_headline_dropped() -> None:
    body = "<p>  The city council   voted\n on Tuesday</p>" + _paragraphs(PARAGRAPHS[1:])
    text = extract_body(_page(body))
    assert text.split("\n\n")[0] == "The city council voted on Tuesday"
    assert text.split("\n\n")[1:] == list(PARAGRAPHS[1:])
    assert "Council approves" not in text


def test_headings_inside_the_body_are_kept() -> None:
    body = _paragraphs(PARAGRAPHS[:3]) + "<h2>What happens next</h2>" + _paragraphs(PARAGRAPHS[3:])
    assert "\n\nWhat happens next\n\n" in extract_body(_page(body))


def test_promotions_and_link_lists_are_dropped() -> None:
    related = "".join(
        f"<li><a href='/story/{i}'>Another story about trams number {i}</a></li>" for i in range(4)
    )
    body = (
        _paragraphs(PARAGRAPHS[:3])
        + "<p>Read also: <a href='/x'>Why trams are back in fashion</a></p>"
        + _paragraphs(PARAGRAPHS[3:])
        + f"<h3>More stories</h3><ul>{related}</ul>"
        + "<p>Filed under: Transport</p>"
    )
    text = extract_body(_page(body))
    assert text.split("\n\n") == list(PARAGRAPHS)


def test_embedded_tweets_are_kept() -> None:
    tweet = (
        "<div class='social-media-embed'><blockquote class='twitter-tweet'><p>Finally the tram is "
        "coming to our street, best news of the year</p>— A resident (@resident)</blockquote></div>"
    )
    body = _paragraphs(PARAGRAPHS[:3]) + tweet + _paragraphs(PARAGRAPHS[3:])
    assert "best news of the year" in extract_body(_page(body))


def test_a_given_tree_is_not_modified() -> None:
    page = _page(_paragraphs() + "<div class='newsletter'><p>Sign up now</p></div>")
    tree = parse_html(page)
    before = etree.tostring(tree)
    assert extract_body(tree, "https://example.com/tram") == extract_body(page)
    assert etree.tostring(tree) == before


# --- never raising -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "empty", ["", b"", "   \n", b"\xef\xbb\xbf", "<html></html>", "<?xml version='1.0'?>"]
)
def test_empty_input_gives_empty_text(empty: str | bytes) -> None:
    assert extract_body(empty) == ""


def test_garbage_bytes_do_not_raise() -> None:
    garbage = random.Random(6).randbytes(200_000)
    assert isinstance(extract_body(garbage), str)
    assert isinstance(extract_body(b"\x00\xff" * 5000), str)


def test_malformed_html_does_not_raise() -> None:
    broken = (
        "<html><body><p>unclosed <div><b>bold</p></i><table><tr><td>" + PARAGRAPHS[0] + "</html"
    )
    assert isinstance(extract_body(broken), str)
    assert isinstance(extract_body("<div>" * 5000 + PARAGRAPHS[0]), str)


def test_page_without_an_article_gives_empty_text() -> None:
    links = "".join(f"<li><a href='/section/{i}'>Section {i}</a></li>" for i in range(40))
    page = f"<html><head><title>Home</title></head><body><nav><ul>{links}</ul></nav></body></html>"
    assert extract_body(page) == ""


def test_internal_failure_is_logged_not_raised(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(extraction.trafilatura, "bare_extraction", boom)
    with caplog.at_level(logging.WARNING, logger="crawler.extract.body"):
        assert extract_body(_page(_paragraphs()), "https://example.com/x") == ""
    assert "https://example.com/x" in caplog.text


def test_a_5_mb_page_is_extracted_quickly() -> None:
    # Mostly script, as on real pages, and a mega-menu of 40,000 elements before the article.
    script = "<script>var data = " + '"' + "x" * 4_200_000 + '";</script>'
    menu = (
        "<ul>"
        + "".join(f"<li><a href='/s/{i}'>Topic {i}</a></li>" for i in range(20_000))
        + "</ul>"
    )
    page = _page(_paragraphs(), head=script).replace("<nav>", f"<nav>{menu}")
    assert len(page) >= 5_000_000
    start = time.perf_counter()
    text = extract_body(page.encode())
    assert time.perf_counter() - start < 20
    assert PARAGRAPHS[2] in text


def test_a_5_mb_page_of_markup_does_not_hang() -> None:
    block = "<div class='card'><a href='/a'>link text here</a> <span>more</span></div>\n"
    page = "<html><body>" + block * (5_000_000 // len(block)) + "</body></html>"
    start = time.perf_counter()
    assert isinstance(extract_body(page), str)
    assert time.perf_counter() - start < 60


# --- decoding ----------------------------------------------------------------------------------

RUSSIAN = (
    "Городской совет во вторник проголосовал за продление трамвайной линии в северные районы.",
    "Строительство первого участка начнётся следующей весной, сообщили журналистам чиновники.",
    "Жители нескольких кварталов уже заявили, что будут оспаривать это решение в суде.",
    "Мэр отверг эти опасения и сказал, что город провёл более сорока публичных встреч.",
)


def test_cp1251_page_without_declaration() -> None:
    page = _page(_paragraphs(RUSSIAN), title="Трамвай продлят на север").encode("cp1251")
    assert RUSSIAN[1] in decode_html(page)
    assert extract_body(page).split("\n\n") == list(RUSSIAN)


def test_declared_charset_is_used() -> None:
    page = "<html><head><meta charset='iso-8859-1'></head><body><p>Café crème</p></body></html>"
    assert "Café crème" in decode_html(page.encode("latin-1"))
    header_wins = page.replace("iso-8859-1", "utf-8").encode("latin-1")
    assert "Café crème" in decode_html(header_wins, "text/html; charset=ISO-8859-1")


def test_byte_order_mark_wins() -> None:
    page = "<html><head><meta charset='windows-1252'></head><body><p>naïve</p></body></html>"
    assert "naïve" in decode_html(b"\xef\xbb\xbf" + page.encode("utf-8"))
    assert "naïve" in decode_html(page.encode("utf-16"))


def test_parse_html_copes_with_odd_input() -> None:
    assert parse_html(b"").tag == "html"
    tree = parse_html(
        "<?xml version='1.0' encoding='utf-8'?><html><body><p>x\x00y</p></body></html>"
    )
    assert tree.findtext(".//p") == "xy"
