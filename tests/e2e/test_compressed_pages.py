"""Compressed story pages over HTTP: the extraction workers decompress them (not the reactor),
so every way a server compresses a page must still give the story, and every page that
cannot be read must end as a counted failure of the run, never a silent loss."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

from tests.helpers import (
    Reply,
    StaticSite,
    article_page,
    filler,
    lines_with,
    newsmon_measured,
    runs,
    sitemap,
    stored,
    write_config,
)

MIB = 1024 * 1024
PEAK_LIMIT_KB = 600 * 1024


def gzipped(page: str) -> Reply:
    return Reply(gzip.compress(page.encode()), headers={"Content-Encoding": "gzip"})


def raw_deflated(page: str) -> Reply:
    packer = zlib.compressobj(wbits=-15)
    body = packer.compress(page.encode()) + packer.flush()
    return Reply(body, headers={"Content-Encoding": "deflate"})


def test_compressed_story_pages_are_stored_and_unreadable_ones_are_counted(
    tmp_path: Path,
) -> None:
    big_story = article_page("A story cut short", filler(3) * 40)
    cut = gzip.compress(big_story.encode())
    # A story page inflating to 64 MB of spaces: a few kB on the wire.
    bomb = article_page("A bomb", filler(4)).replace("</body>", " " * (64 * MIB) + "</body>")
    large = article_page("A large story", filler(6)).replace(
        "</head>", f"<script>var pad = '{'x' * (3 * MIB // 2)}';</script></head>"
    )
    redirect = (
        '<html><head><meta http-equiv="refresh" content="0; url=/news/moved-here"></head>'
        "<body><p>This story has moved.</p></body></html>"
    )
    with StaticSite() as site:
        pages = {
            "/news/gzip": gzipped(article_page("A gzip story", filler(0))),
            "/news/deflate": raw_deflated(article_page("A deflate story", filler(1))),
            "/news/plain": Reply(article_page("A plain story", filler(2)).encode()),
            "/news/cut": Reply(cut[: len(cut) * 2 // 3], headers={"Content-Encoding": "gzip"}),
            "/news/bomb": Reply(
                gzip.compress(bomb.encode(), compresslevel=9), headers={"Content-Encoding": "gzip"}
            ),
            "/news/moved": gzipped(redirect),
            "/news/large": gzipped(large),
        }
        site.routes.update(
            {
                "/sitemap.xml": Reply(sitemap([site.url(p) for p in pages]), "application/xml"),
                "/news/moved-here": gzipped(article_page("A moved story", filler(5))),
                **pages,
            }
        )
        config = write_config(
            tmp_path,
            [
                {
                    "name": "zipped",
                    "spider": "generic",
                    "url": site.url("/"),
                    "sitemaps": [site.url("/sitemap.xml")],
                    "feeds": [],
                    "wordpress": False,
                    "article_pattern": "/news/",
                }
            ],
        )
        result = newsmon_measured(
            config,
            tmp_path,
            "--log-level",
            "INFO",
            "crawl",
            env={
                "NEWSMON_DOWNLOAD_MAXSIZE": str(8 * MIB),
                "NEWSMON_DOWNLOAD_WARNSIZE": str(MIB),
                "NEWSMON_EXTRACT_WORKERS": "2",
            },
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.peak_kb and result.peak_kb < PEAK_LIMIT_KB, f"peak RSS {result.peak_kb} kB"
    db = tmp_path / "newsmon.db"
    titles = {title: text for title, text in stored(db).values()}
    assert set(titles) == {
        "A gzip story",
        "A deflate story",
        "A plain story",
        "A story cut short",  # what the cut page holds, as a browser would show it
        "A moved story",  # the meta refresh of a compressed page is still followed
        "A large story",  # over the warn size once inflated: stored, with a warning
    }
    assert filler(0)[0] in titles["A gzip story"]
    assert filler(3)[0] in titles["A story cut short"]
    status, _, new, errors, error = runs(db)["zipped"]
    assert (status, new, errors) == ("partial", 6, 1)
    assert error is not None and "/news/bomb" in error and "DOWNLOAD_MAXSIZE" in error
    assert "story page failed" in result.stderr and "/news/bomb" in result.stderr
    warnings = list(lines_with(result.stderr, "WARNING"))
    assert any("/news/large" in w and "warn size" in w for w in warnings)
