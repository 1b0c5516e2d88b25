"""The extraction pipeline learns each site's boilerplate from its stories: a run applies the
profile the site had when it started, and what its stories teach is saved for the next run."""

from __future__ import annotations

import asyncio
from pathlib import Path

from scrapy import Spider
from scrapy.utils.test import get_crawler

from crawler.config import parse_config
from crawler.db import connect, site_profiles
from crawler.extract.site_profile import SiteProfile
from crawler.story import LISTED, Page, Story
from pipelines.extract import ExtractPipeline

DISCLAIMER = "Disclaimer: the views expressed here are not investment advice of any kind at all."
WORDS = [
    "harbour",
    "council",
    "barrier",
    "tidal",
    "vote",
    "budget",
    "engineers",
    "winter",
    "storms",
    "coast",
    "town",
]


def page(n: int) -> str:
    story = " ".join(f"{WORDS[(n + i) % len(WORDS)]}{n}" for i in range(60))
    return (
        f"<html><head><title>Story {n} | Harbour Herald</title>"
        '<meta property="og:type" content="article"></head><body><article>'
        f"<h1>Story {n}</h1><p>{story}.</p><p>{story} again.</p><p>{DISCLAIMER}</p>"
        "</article></body></html>"
    )


def crawl(tmp_path: Path, numbers: range) -> list[Story]:
    """One run of the pipeline over story pages ``numbers`` of one site."""
    config = parse_config(
        {
            "database": str(tmp_path / "newsmon.db"),
            "sites": [{"name": "herald", "spider": "generic", "url": "https://herald.test/"}],
        }
    )

    class HeraldSpider(Spider):
        name = "herald"

    crawler = get_crawler(HeraldSpider, {"NEWSMON_EXTRACT_WORKERS": 0})
    spider = HeraldSpider()
    spider.site, spider.config = config.sites[0], config  # type: ignore[attr-defined]
    crawler.spider = spider
    pipeline = ExtractPipeline.from_crawler(crawler)
    pipeline.open_spider()

    async def run() -> list[Story]:
        items = []
        for n in numbers:
            url = f"https://herald.test/story-{n}/"
            item = Story(url=url, site="herald", page=Page.of_text(page(n)), evidence=LISTED)
            items.append(await pipeline.process_item(item))
        await pipeline.close_spider()
        return items

    return asyncio.run(run())


def test_the_site_disclaimer_is_learned_in_one_run_and_removed_in_the_next(
    tmp_path: Path,
) -> None:
    first = crawl(tmp_path, range(5))
    assert all(DISCLAIMER in item.text for item in first)  # nothing known of the site yet
    with connect(tmp_path / "newsmon.db") as db:
        saved = SiteProfile.from_json("herald", site_profiles.load(db, "herald"))
    assert len(saved.stories) == 5
    second = crawl(tmp_path, range(5, 8))
    for item in second:
        assert DISCLAIMER not in item.text
        assert item.boilerplate == [DISCLAIMER]
        assert item.title.startswith("Story ") and "Harbour Herald" not in item.title
    # A story of the first run seen again: the disclaimer goes, and storage is told so.
    again = crawl(tmp_path, range(0, 1))[0]
    assert DISCLAIMER not in again.text and again.boilerplate == [DISCLAIMER]
