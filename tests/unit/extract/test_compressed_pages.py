"""Story pages reach the extraction workers still compressed: decompressing them there must
read every page Scrapy's own decompression read, and refuse what it refused."""

from __future__ import annotations

import gzip
import time
import zlib

import pytest

from crawler.extract.html import PageError, decode_html, decompress, inflated
from crawler.story import Page


def page_text(page: Page) -> str:
    """The text of a page as the extraction worker reads it."""
    return decode_html(inflated(page), page.content_type)


PAGE = "<html><head><title>Zürich</title></head><body><p>Grüße aus Zürich.</p></body></html>"
RAW = PAGE.encode("utf-8")
MIB = 1024 * 1024


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(data) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(RAW)),
        ("x-gzip", gzip.compress(RAW)),
        ("GZIP ", gzip.compress(RAW)),
        ("deflate", zlib.compress(RAW)),  # zlib-wrapped, as the standard says
        ("deflate", raw_deflate(RAW)),  # raw, as some servers send it
    ],
)
def test_gzip_and_deflate_in_their_variants_decompress(encoding: str, body: bytes) -> None:
    assert decompress(body, encoding) == RAW
    assert page_text(Page(body, "text/html; charset=utf-8", encoding)) == PAGE


def test_gzip_members_one_after_another_are_one_page() -> None:
    half = len(RAW) // 2
    assert decompress(gzip.compress(RAW[:half]) + gzip.compress(RAW[half:]), "gzip") == RAW


def test_a_page_cut_short_gives_what_it_holds() -> None:
    big = RAW * 2000
    body = gzip.compress(big)
    cut = decompress(body[: len(body) // 2], "gzip")
    assert 0 < len(cut) < len(big) and big.startswith(cut)


def test_a_bomb_is_refused_at_the_cap_without_inflating_it_all() -> None:
    bomb = gzip.compress(b" " * (200 * MIB), compresslevel=9)  # ~200 kB on the wire
    started = time.process_time()
    with pytest.raises(PageError, match="DOWNLOAD_MAXSIZE"):
        decompress(bomb, "gzip", max_size=4 * MIB)
    assert time.process_time() - started < 0.5  # 4 MB inflated, not 200


def test_the_cap_lets_a_page_of_exactly_its_size_through() -> None:
    body = b"x" * 1000
    assert decompress(gzip.compress(body), "gzip", max_size=1000) == body
    with pytest.raises(PageError):
        decompress(gzip.compress(body), "gzip", max_size=999)


@pytest.mark.parametrize(
    ("encoding", "body", "reason"),
    [
        ("gzip", b"\x1f\x8b\x08\x00 certainly not gzip", "broken gzip"),
        ("deflate", b"not deflate either", "broken deflate"),
        ("br", b"\x0b\x02\x80hello", "unsupported Content-Encoding"),
        ("gzip\r\nX-Injected: 1", gzip.compress(RAW), "unsupported Content-Encoding"),
    ],
)
def test_unreadable_pages_fail_with_a_reason(encoding: str, body: bytes, reason: str) -> None:
    with pytest.raises(PageError, match=reason):
        page_text(Page(body, None, encoding))


def test_an_uncompressed_page_is_decoded_by_the_usual_rules() -> None:
    latin = PAGE.encode("cp1252")
    assert page_text(Page(latin, "text/html; charset=windows-1252")) == PAGE
    assert page_text(Page.of_text(PAGE)) == PAGE
