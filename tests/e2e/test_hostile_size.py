"""Size: gzip bombs (a ``.xml.gz`` file and a ``Content-Encoding: gzip`` answer) and a huge story
page are cut off at the configured limits with a warning, the rest of the site is stored, and
the crawl's peak memory stays bounded."""

from __future__ import annotations

import gzip
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
LIMITS = {
    "NEWSMON_DOWNLOAD_MAXSIZE": str(4 * MIB),
    "NEWSMON_DOWNLOAD_WARNSIZE": str(1 * MIB),
    "NEWSMON_SITEMAP_MAXSIZE": str(4 * MIB),
}
PEAK_LIMIT_KB = 600 * 1024


def padded_page(title: str, index: int, padding: int) -> bytes:
    """A story page made ``padding`` bytes bigger by an inline script."""
    pad = f"<script>var pad = '{'x' * padding}';</script>"
    return article_page(title, filler(index), extra_head=pad).encode()


def test_bombs_and_huge_pages_are_cut_off_and_memory_stays_bounded(tmp_path: Path) -> None:
    bomb = gzip.compress(b"\0" * (10 * MIB), compresslevel=9)  # ~10 kB on the wire
    with StaticSite() as site:
        stories = [f"/news/story-{i}" for i in range(3)]
        site.routes.update(
            {
                "/sitemap.xml": Reply(
                    sitemap([site.url(p) for p in [*stories, "/news/huge", "/news/large"]]),
                    "application/xml",
                ),
                "/bomb.xml.gz": Reply(bomb, "application/x-gzip"),
                "/bomb-encoded.xml": Reply(
                    bomb, "application/xml", headers={"Content-Encoding": "gzip"}
                ),
                "/news/huge": Reply(padded_page("An 8 MB story", 3, 8 * MIB)),
                "/news/large": Reply(padded_page("A 1.5 MB story", 4, 3 * MIB // 2)),
                **{
                    path: Reply(article_page(f"Story {i}", filler(i)).encode())
                    for i, path in enumerate(stories)
                },
            }
        )
        config = write_config(
            tmp_path,
            [
                {
                    "name": "big",
                    "spider": "generic",
                    "url": site.url("/"),
                    "sitemaps": [
                        site.url(p) for p in ("/sitemap.xml", "/bomb.xml.gz", "/bomb-encoded.xml")
                    ],
                    "feeds": [],
                    "wordpress": False,
                    "article_pattern": "/news/",
                }
            ],
        )
        result = newsmon_measured(config, tmp_path, "--log-level", "INFO", "crawl", env=LIMITS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.peak_kb and result.peak_kb < PEAK_LIMIT_KB, f"peak RSS {result.peak_kb} kB"
    db = tmp_path / "newsmon.db"
    status, _, new, errors, error = runs(db)["big"]
    assert (status, new, errors) == ("partial", 4, 3)
    assert error is not None
    assert "/bomb.xml.gz: sitemap: gzip file larger than NEWSMON_SITEMAP_MAXSIZE" in error
    assert "/bomb-encoded.xml: sitemap: " in error and "DOWNLOAD_MAXSIZE" in error
    assert "/news/huge (DownloadCancelledError" in error
    # The page between the warning and the hard limit is stored, with a warning.
    titles = {title for title, _ in stored(db).values()}
    assert titles == {"Story 0", "Story 1", "Story 2", "A 1.5 MB story"}
    warnings = list(lines_with(result.stderr, "WARNING"))
    assert any("/news/large" in w and "warn size" in w for w in warnings)
    assert any("/news/huge" in w and "max size" in w for w in warnings)
    assert any("/bomb.xml.gz" in w and "NEWSMON_SITEMAP_MAXSIZE" in w for w in warnings)
    assert any("/bomb-encoded.xml" in w and "DOWNLOAD_MAXSIZE" in w for w in warnings)
