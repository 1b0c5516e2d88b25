"""Which answers StoryCompressionMiddleware leaves compressed for the extraction workers, and
that every other answer is decompressed as Scrapy's own middleware does."""

from __future__ import annotations

import gzip

import pytest
from scrapy.http import HtmlResponse, Request, Response, TextResponse
from scrapy.utils.test import get_crawler

from crawler.crawling.middlewares import KEEP_COMPRESSED, StoryCompressionMiddleware
from crawler.crawling.settings import DOWNLOADER_MIDDLEWARES

PAGE = b"<html><head><title>A story</title></head><body><p>Its text.</p></body></html>"
REFRESH = b'<html><head><meta http-equiv="Refresh" content="0; url=/moved"></head></html>'
# Within the first 4,096 characters MetaRefreshMiddleware reads, but past 4,096 bytes.
LATE_REFRESH = "<html><head><title>{}</title>".format("é" * 3000).encode() + REFRESH[12:]


@pytest.fixture
def middleware() -> StoryCompressionMiddleware:
    return StoryCompressionMiddleware.from_crawler(get_crawler())


def answer(
    cls: type[Response], body: bytes, encoding: str = "gzip", story: bool = True
) -> tuple[Request, Response]:
    request = Request("https://news.test/story", meta={KEEP_COMPRESSED: True} if story else {})
    headers = {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": encoding}
    return request, cls(request.url, body=body, headers=headers, request=request)


@pytest.mark.parametrize("cls", [Response, TextResponse, HtmlResponse])
def test_a_story_page_stays_compressed_as_a_plain_response(
    middleware: StoryCompressionMiddleware, cls: type[Response]
) -> None:
    request, response = answer(cls, gzip.compress(PAGE))
    kept = middleware.process_response(request, response)
    assert type(kept) is Response  # no middleware reads its compressed bytes as text
    assert kept.body == response.body and kept.status == 200
    assert kept.headers.get("Content-Encoding") == b"gzip"


@pytest.mark.parametrize(
    ("body", "encoding", "story"),
    [
        (gzip.compress(PAGE), "gzip", False),  # not a story page: a listing, a feed
        (gzip.compress(REFRESH), "gzip", True),  # a meta refresh, for MetaRefreshMiddleware
        (gzip.compress(LATE_REFRESH), "gzip", True),
        (PAGE, "identity", True),  # nothing to undo
    ],
)
def test_other_answers_are_decompressed_here(
    middleware: StoryCompressionMiddleware, body: bytes, encoding: str, story: bool
) -> None:
    request, response = answer(Response, body, encoding, story)
    done = middleware.process_response(request, response)
    assert done.body in (PAGE, REFRESH, LATE_REFRESH)


def test_it_stands_in_for_scrapys_middleware() -> None:
    scrapys = "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware"
    assert DOWNLOADER_MIDDLEWARES[scrapys] is None
    assert "crawler.crawling.middlewares.StoryCompressionMiddleware" in DOWNLOADER_MIDDLEWARES
