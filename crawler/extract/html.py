"""Turning fetched bytes into text and a tree, whatever the server declared.

Every reader of a page (extraction, metadata, discovery of feed links and listings) starts
here, so a page is decoded by one rule everywhere: the bytes' own evidence over the labels.
"""

from __future__ import annotations

import codecs
import logging
import re
import zlib
from typing import TYPE_CHECKING

import charset_normalizer
import lxml.html
from lxml import etree
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    to_unicode,
)

if TYPE_CHECKING:
    from crawler.story import Page

logger = logging.getLogger(__name__)

# Only bytes up to this size are sniffed for an encoding: detection is slow on huge pages and
# the head of a page is representative.
_SNIFF_BYTES = 64 * 1024
_NON_ASCII_RE = re.compile(rb"[\x80-\xff]")
_WEB_DEFAULT = "cp1252"  # what browsers assume for undeclared Western pages

# No huge_tree: libxml2's default depth limit is what keeps absurdly nested markup cheap.
# Pages are parsed as UTF-8 bytes: libxml2 works in UTF-8, and handing it a Python str costs a
# third more (it converts the str itself).
_PARSER = lxml.html.HTMLParser(
    remove_comments=True, remove_pis=True, collect_ids=False, encoding="utf-8"
)
# lxml.html picks each element's class with a Python method, called for every element that
# Python code touches (hundreds a page); a lookup in C gives the same HtmlElement class
# (lxml.html's form and input classes, which nothing here uses, aside).
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
    )
)
# An XML encoding declaration would contradict the UTF-8 the page is parsed in, and XML
# forbids control characters (in UTF-8 these bytes never occur inside a multi-byte character,
# so deleting them cuts no character).
_XML_DECLARATION_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_CONTROL_BYTES = bytes(range(0x00, 0x09)) + b"\x0b\x0c" + bytes(range(0x0E, 0x20))
_NON_CHARACTERS = ("\ufffe", "\uffff")


class PageError(ValueError):
    """A fetched page that cannot be read: a broken or unknown compression, or one that
    decompresses to more than the crawl's DOWNLOAD_MAXSIZE."""


# Content-Encodings a page may still carry when it reaches extraction, and zlib's window
# bits for each (47: a gzip or zlib header, detected).
_ZLIB_WBITS = {"gzip": 47, "x-gzip": 47, "deflate": 15}
INFLATABLE = frozenset(_ZLIB_WBITS)
_RAW_DEFLATE = -15  # "deflate" sent without zlib's header, as some servers do
_CHUNK = 256 * 1024


def inflated(page: Page) -> bytes:
    """The bytes of a fetched page, decompressed within its ``max_size``."""
    if page.content_encoding:
        return decompress(page.body, page.content_encoding, page.max_size)
    return page.body


def decompress(body: bytes, encoding: str, max_size: int = 0) -> bytes:
    """``body`` with its Content-Encoding (gzip or deflate) undone; PageError when it is
    broken, unknown, or would exceed ``max_size`` bytes (0: no cap), which is checked as the
    output grows, so a compression bomb costs no more than ``max_size``."""
    name = encoding.strip().lower()
    if name not in _ZLIB_WBITS:
        raise PageError(f"unsupported Content-Encoding {encoding[:40]!r}")
    try:
        return _inflate(body, _ZLIB_WBITS[name], max_size)
    except zlib.error as exc:
        if name != "deflate":
            raise PageError(f"broken {name} body: {exc}") from None
    try:
        return _inflate(body, _RAW_DEFLATE, max_size)
    except zlib.error as exc:
        raise PageError(f"broken deflate body: {exc}") from None


def inflated_head(body: bytes, encoding: str, size: int) -> bytes:
    """The first ``size`` bytes of a compressed ``body`` (an encoding of ``INFLATABLE``),
    inflating no more; zlib.error when its start is broken."""
    name = encoding.strip().lower()
    try:
        return zlib.decompressobj(_ZLIB_WBITS[name]).decompress(body, size)
    except zlib.error:
        if name != "deflate":
            raise
    return zlib.decompressobj(_RAW_DEFLATE).decompress(body, size)


def _inflate(body: bytes, wbits: int, max_size: int) -> bytes:
    """Decompress one stream, or several gzip members one after another, chunk by chunk. A
    stream cut short gives what it holds, as browsers and Scrapy show a truncated page."""
    cap = max_size or 2**62
    out = bytearray()
    data = body
    while data:
        stream = zlib.decompressobj(wbits)
        try:
            while data:
                out += stream.decompress(data, _CHUNK)
                if len(out) > cap:
                    raise PageError(_too_large(max_size))
                data = stream.unconsumed_tail
            out += stream.flush()  # what a stream that ended with its input still holds
        except zlib.error:
            if not out:
                raise
            logger.debug("a compressed page ends early (%d B read)", len(out))
            break
        if len(out) > cap:
            raise PageError(_too_large(max_size))
        data = stream.unused_data if stream.eof else b""
    return bytes(out)


def _too_large(max_size: int) -> str:
    return f"larger than DOWNLOAD_MAXSIZE ({max_size} B) once decompressed"


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Decode a fetched page, never failing and never guessing against the evidence.

    In order: a byte-order mark; the declared charset (Content-Type header, then ``<meta>``)
    if the bytes decode with it strictly; UTF-8 if they are valid UTF-8; else a detected
    encoding, with undecodable bytes as U+FFFD. A declaration the bytes contradict (a
    cp1251 page served as UTF-8, a BOM against the header) is a server's mistake, and
    trusting it would store mojibake that hides or fakes watch matches.
    """
    return html_encoding(data, content_type)[1]


def html_encoding(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """``decode_html`` with the encoding it used: ``(encoding, text)``."""
    bom_encoding, bom = read_bom(data)
    if bom_encoding is not None and bom is not None:
        return bom_encoding, to_unicode(data[len(bom) :], bom_encoding)
    for declared in (http_content_type_encoding(content_type), html_body_declared_encoding(data)):
        if not declared:
            continue
        text = _strictly(data, declared)
        if text is not None:
            return _prefer_utf8(data, declared, text)
        logger.debug("declared charset %s does not fit the bytes; detecting", declared)
    encoding = _sniff_encoding(data) or _WEB_DEFAULT
    return encoding, to_unicode(data, encoding)


def _strictly(data: bytes, encoding: str) -> str | None:
    if encoding in ("utf-16", "utf-32"):  # no BOM (checked before): big-endian, as w3lib does
        encoding += "-be"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _prefer_utf8(data: bytes, declared: str, text: str) -> tuple[str, str]:
    """Valid multi-byte UTF-8 under a legacy declaration (a server's default
    ``charset=ISO-8859-1`` on UTF-8 pages, the commonest mislabel) is UTF-8: legacy text
    is practically never valid UTF-8 by accident."""
    if codecs.lookup(declared).name.startswith("utf") or text.isascii():
        return declared, text
    try:
        return "utf-8", data.decode("utf-8")
    except UnicodeDecodeError:
        return declared, text


def _sniff_encoding(data: bytes) -> str | None:
    """UTF-8 if the bytes are valid UTF-8, else charset-normalizer's guess from a sample
    that starts where the non-ASCII text does (a long ASCII ``<head>`` says nothing)."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    first = _NON_ASCII_RE.search(data)
    start = max(0, first.start() - 256) if first else 0
    matches = charset_normalizer.from_bytes(data[start : start + _SNIFF_BYTES])
    best = matches.best()
    if best is None or best.encoding == "ascii":
        return None
    # Short Western text reads equally well in several Latin code pages; the tie goes to
    # windows-1252, the web's default (cp1250 would turn "très" into "trčs").
    tied = [m for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)]
    if any(_WEB_DEFAULT in m.could_be_from_charset for m in tied):
        return _WEB_DEFAULT
    return str(best.encoding)


def parse_html(html: str | bytes, content_type: str | None = None) -> lxml.html.HtmlElement:
    """Parse a page into an lxml tree; bytes are decoded with ``decode_html``.

    Empty or unparsable input gives an empty ``<html>`` element rather than an error.
    """
    text = decode_html(html, content_type) if isinstance(html, bytes) else html
    text = _XML_DECLARATION_RE.sub("", text, count=1)
    if not text.strip():
        return lxml.html.Element("html")
    if not text.isascii():  # looked for in the text: an ASCII page has none, at no cost
        for character in _NON_CHARACTERS:
            if character in text:
                text = text.replace(character, "")
    data = text.encode("utf-8", "replace").translate(None, _CONTROL_BYTES)
    try:
        return lxml.html.document_fromstring(data, parser=_PARSER)
    except (etree.ParserError, ValueError):
        return lxml.html.Element("html")
