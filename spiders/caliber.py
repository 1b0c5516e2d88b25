"""Caliber.az: a custom CMS. English stories under /en/post/, Russian under /post/,
Azerbaijani under /az/post/; no JSON-LD, so dates and titles come from the page's own blocks."""

from __future__ import annotations

from crawler.extract.article import SiteRules
from spiders.base import NewsSpider


class CaliberSpider(NewsSpider):
    name = "caliber"
    # Paths resolve against the site's url (https://caliber.az/en/): "/rss.xml" is host-wide.
    feeds = ("/rss.xml",)
    listings = ("", "category/world", "category/politics", "category/economy")
    search = ("search/{words}",)
    article_pattern = r"/(?:en/|az/)?post/[^/?#]+/?$"
    rules = SiteRules(
        story=".post h1.post_title",
        title="h1.post_title",
        published=".post_time",
        date_formats=("%d %B %Y %H:%M", "%d.%m.%Y %H:%M"),
        timezone="Asia/Baku",
        body=".post_body",
        drop=(
            ".post_signature",
            ".post_hits",
            ".post_categoty",
            ".share_block",
            ".ads_block",
            ".telegram_block",
            "script",
            "style",
        ),
        drop_text=(r"^caliber\.az$",),
    )
