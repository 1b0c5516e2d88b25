"""Encodings: pages whose declared charset lies, pages that declare none, and a BOM against the
header are stored as the right Unicode, so watches match what the page really says."""

from __future__ import annotations

from pathlib import Path
from urllib.request import urlopen

import pytest

from crawler.extract.html import decode_html, html_encoding
from replica.server import ReplicaServer
from replica.sites import story_path
from tests.helpers import rows, run_newsmon, runs, stored, write_config

RUSSIAN = (
    "Санаэ Такаити и президент США Дональд Трамп подписали соглашение о редкоземельных металлах."
)
WESTERN = "Der Bürgermeister von Zürich traf Takaichi im Café; les élèves étaient très contents."
AZERI = "Azərbaycan və Özbəkistan nəqliyyat dəhlizi üzrə saziş imzalayıb"
UTF8_META = '<meta charset="utf-8">'


def page(text: str, meta: str = "") -> str:
    return f"<html><head>{meta}<title>t</title></head><body><p>{text}</p></body></html>"


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [
        # Declared UTF-8 in the header and the page, but written in cp1251.
        (page(RUSSIAN, UTF8_META).encode("cp1251"), "text/html; charset=utf-8", RUSSIAN),
        # No declaration at all: cp1251, latin-1, UTF-8.
        (page(RUSSIAN).encode("cp1251"), "text/html", RUSSIAN),
        (page(WESTERN).encode("latin-1"), None, WESTERN),
        (page(RUSSIAN).encode("utf-8"), "text/html", RUSSIAN),
        # A long ASCII head does not hide the encoding of the text after it.
        (("<script>var a = 1;</script>" * 4000 + page(RUSSIAN)).encode("cp1251"), None, RUSSIAN),
        # A UTF-8 BOM wins over a header that says otherwise.
        (b"\xef\xbb\xbf" + page(AZERI).encode(), "text/html; charset=windows-1251", AZERI),
        # UTF-8 under a server's default ISO-8859-1 label.
        (page(WESTERN, UTF8_META).encode(), "text/html; charset=ISO-8859-1", WESTERN),
        # Honest declarations are followed.
        (page(RUSSIAN).encode("koi8-r"), "text/html; charset=koi8-r", RUSSIAN),
        (page(WESTERN).encode("cp1252"), "text/html; charset=windows-1252", WESTERN),
    ],
)
def test_decode_html_gives_the_text_as_written(
    data: bytes, content_type: str | None, expected: str
) -> None:
    text = decode_html(data, content_type)
    assert expected in text
    assert "\ufffd" not in text


def test_a_utf7_declaration_is_ignored() -> None:
    # UTF-7 would turn "+ADw-script+AD4-" into "<script>": browsers refuse it, and so do we.
    data = b'<meta charset="utf-7"><p>+ADw-script+AD4-</p>'
    assert "<script>" not in decode_html(data, "text/html; charset=utf-7")


def test_undecodable_bytes_never_raise() -> None:
    encoding, text = html_encoding(b"<p>\xff\xfe\x00\x81\x8d garbage \xc3</p>", "text/html")
    assert encoding and "garbage" in text


def fetch(server: ReplicaServer, path: str) -> str:
    with urlopen(server.url(path)) as response:
        return str(response.read().decode("utf-8"))


def serve_as(server: ReplicaServer, path: str, body: bytes, content_type: str) -> None:
    server.set_fault(path, "body", body=body, content_type=content_type)


def test_crawled_pages_in_any_encoding_are_stored_as_unicode_and_match(
    tmp_path: Path, caliber_server: ReplicaServer
) -> None:
    site = caliber_server.site
    by_slug = {s.slug: s for s in site.stories}
    ru_declared = by_slug[
        "takaiti-i-tramp-podpisali-ramochnoe-soglashenie-po-redkozemelnym-metallam"
    ]
    ru_bare = by_slug["v-baku-otkrylsya-mezhdunarodnyj-forum-po-kiberbezopasnosti"]
    az = by_slug["azerbaycan-ve-ozbekistan-neqliyyat-dehlizi-uzre-sazis-imzalayib"]
    en_latin, en_utf8 = [s for s in site.stories if s.language == "en"][:2]
    for story in (en_latin, en_utf8):
        site.edit_story(story.slug, paragraphs=[*story.paragraphs, WESTERN])
    pages = {s.slug: fetch(caliber_server, story_path(s)) for s in by_slug.values()}

    def bare(slug: str) -> str:
        """The page without its ``<meta charset>``."""
        assert UTF8_META in pages[slug]
        return pages[slug].replace(UTF8_META, "")

    declared_utf8 = pages[ru_declared.slug].encode("cp1251")
    serve_as(caliber_server, story_path(ru_declared), declared_utf8, "text/html; charset=utf-8")
    serve_as(caliber_server, story_path(ru_bare), bare(ru_bare.slug).encode("cp1251"), "text/html")
    # A latin-1 site writes what latin-1 lacks (the menu's "Azərbaycan") as &#601;.
    latin = bare(en_latin.slug).encode("latin-1", "xmlcharrefreplace")
    serve_as(caliber_server, story_path(en_latin), latin, "text/html")
    serve_as(caliber_server, story_path(en_utf8), bare(en_utf8.slug).encode(), "text/html")
    bom = b"\xef\xbb\xbf" + pages[az.slug].encode()
    serve_as(caliber_server, story_path(az), bom, "text/html; charset=windows-1251")
    watches = [{"name": "takaiti", "query": "Такаити"}, {"name": "zurich", "query": "Zürich"}]
    config = write_config(
        tmp_path,
        [{"name": "caliber", "spider": "caliber", "url": caliber_server.base_url}],
        watches=watches,
    )
    result = run_newsmon(config, "crawl")
    assert result.returncode == 0, result.stdout + result.stderr
    db = tmp_path / "newsmon.db"
    assert runs(db)["caliber"][0] == "ok"
    texts = {url.rsplit("/", 1)[-1]: text for url, (_, text) in stored(db).items()}
    titles = {url.rsplit("/", 1)[-1]: title for url, (title, _) in stored(db).items()}
    assert "Такаити" in texts[ru_declared.slug]
    assert titles[ru_declared.slug] == ru_declared.title
    assert ru_bare.paragraphs[0] in texts[ru_bare.slug]
    assert WESTERN in texts[en_latin.slug] and WESTERN in texts[en_utf8.slug]
    assert titles[az.slug] == AZERI
    assert not any("\ufffd" in text or "Ð" in text for text in texts.values())
    matched = rows(
        db, "SELECT a.url, m.watch FROM matches m JOIN articles a ON a.id = m.article_id"
    )
    by_watch = {(url.rsplit("/", 1)[-1], watch) for url, watch in matched}
    assert (ru_declared.slug, "takaiti") in by_watch
    assert {(en_latin.slug, "zurich"), (en_utf8.slug, "zurich")} <= by_watch
