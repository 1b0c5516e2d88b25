"""The dedup pipeline: fingerprints computed in the crawl, in-run repeats dropped."""

from __future__ import annotations

import pytest
from scrapy.exceptions import DropItem

from crawler import neardup
from crawler.fingerprint import body_hash, content_hash, normalize
from crawler.items import Story
from pipelines.dedup import MIN_DUPLICATE_CHARS, DedupPipeline

LONG_TEXT = (
    "Azerbaijan and Kazakhstan signed an agreement on Tuesday to expand oil shipments across "
    "the Caspian Sea, a move officials in Baku said would raise transit volumes through the "
    "Baku-Tbilisi-Ceyhan pipeline by almost a third before the end of next year."
)


@pytest.fixture
def pipeline() -> DedupPipeline:
    p = DedupPipeline()
    p.open_spider()
    return p


def test_long_body_gets_hashes_and_signature(pipeline: DedupPipeline) -> None:
    assert len(LONG_TEXT) >= MIN_DUPLICATE_CHARS
    item = pipeline.process_item(
        Story(url="https://x.test/a", site="x", title="Oil deal", text=LONG_TEXT)
    )
    assert item.content_hash == content_hash("Oil deal", LONG_TEXT)
    assert item.body_hash == body_hash(LONG_TEXT)
    assert item.signature == neardup.signature(LONG_TEXT)
    assert len(item.signature) == neardup.NUM_PERM


@pytest.mark.parametrize(
    "text",
    [
        "Photo gallery: the summit",
        # Over 200 characters as fetched, under once whitespace is normalized: too short.
        "Summit" + "  word" * 37 + "  end",
    ],
)
def test_short_body_gets_no_body_hash_or_signature(pipeline: DedupPipeline, text: str) -> None:
    assert len(normalize(text)) < MIN_DUPLICATE_CHARS
    item = pipeline.process_item(Story(url="https://x.test/g", site="x", title="G", text=text))
    assert item.content_hash == content_hash("G", text)
    assert item.body_hash == ""
    assert item.signature == []


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
