"""Fingerprints as extraction computes them, and the dedup pipeline dropping in-run repeats."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from crawler.dedup import minhash
from crawler.dedup.fingerprints import MIN_DUPLICATE_CHARS, body_hash, content_hash
from crawler.dedup.normalize import normalize
from crawler.extract.article import extract_page
from crawler.story import Story
from pipelines.dedup import DedupPipeline

LONG_TEXT = (
    "Azerbaijan and Kazakhstan signed an agreement on Tuesday to expand oil shipments across "
    "the Caspian Sea, a move officials in Baku said would raise transit volumes through the "
    "Baku-Tbilisi-Ceyhan pipeline by almost a third before the end of next year."
)


def page(title: str, text: str) -> str:
    return (
        f"<html><head><title>{title}</title>"
        '<meta property="og:type" content="article"></head>'
        f"<body><article><h1>{title}</h1><p>{text}</p></article></body></html>"
    )


@pytest.fixture
def pipeline() -> DedupPipeline:
    p = DedupPipeline()
    p.open_spider()
    return p


def test_long_body_gets_hashes_and_signature() -> None:
    assert len(LONG_TEXT) >= MIN_DUPLICATE_CHARS
    found = extract_page(page("Oil deal", LONG_TEXT), "https://x.test/a", None, True)
    assert found.fingerprints is not None
    assert found.text == LONG_TEXT
    assert found.fingerprints.content_hash == content_hash("Oil deal", LONG_TEXT)
    assert found.fingerprints.body_hash == body_hash(LONG_TEXT)
    assert list(found.fingerprints.signature) == minhash.signature(LONG_TEXT)
    assert len(found.fingerprints.signature) == minhash.NUM_PERM


@pytest.mark.parametrize(
    "text",
    [
        "Photo gallery: the summit",
        # Over 200 characters as fetched, under once whitespace is normalized: too short.
        "Summit" + "  word" * 37 + "  end",
    ],
)
def test_short_body_gets_no_body_hash_or_signature(text: str) -> None:
    from crawler.dedup.fingerprints import fingerprints

    assert len(normalize(text)) < MIN_DUPLICATE_CHARS
    found = fingerprints("G", text)
    assert found.content_hash == content_hash("G", text)
    assert found.body_hash == ""
    assert found.signature == ()


def test_not_modified_story_passes_without_fingerprints(pipeline: DedupPipeline) -> None:
    item = pipeline.process_item(Story(url="https://x.test/a", site="x", not_modified=True))
    assert (item.content_hash, item.body_hash, item.signature) == ("", "", [])


def test_url_seen_twice_in_a_run_is_dropped(pipeline: DedupPipeline) -> None:
    pipeline.process_item(Story(url="https://x.test/a", site="x", text=LONG_TEXT))
    with pytest.raises(DropItem, match="https://x.test/a"):
        pipeline.process_item(Story(url="https://x.test/a", site="x", text=LONG_TEXT))


def test_next_run_starts_with_no_urls_seen(pipeline: DedupPipeline) -> None:
    pipeline.process_item(Story(url="https://x.test/a", site="x", text=LONG_TEXT))
    pipeline.open_spider()
    item = pipeline.process_item(Story(url="https://x.test/a", site="x", text=LONG_TEXT))
    assert item.url == "https://x.test/a"
