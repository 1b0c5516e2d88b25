"""EQMint: WordPress. Stories at /<slug>/ with Yoast JSON-LD (but no articleBody); the body
carries a byline paragraph, a "visit EQMint" line and a disclaimer that are not the story."""

from __future__ import annotations

from crawler.discovery.well_known import WP_POSTS, WP_SEARCH
from crawler.extract.article import SiteRules
from spiders.base import NewsSpider


class EqmintSpider(NewsSpider):
    name = "eqmint"
    feeds = ("feed/",)
    sitemaps = ("sitemap_index.xml", "wp-sitemap.xml")
    listings = ("",)
    search = ("?s={words}",)
    wp_api = (WP_POSTS, WP_SEARCH)
    # One path segment: /<slug>/. Pages such as /about/ are told apart by the story selector.
    article_pattern = r"^https?://[^/]+/(?!(?:page|category|tag|author|feed|wp-\w+)/)[^/?#]+/$"
    rules = SiteRules(
        story="body.single-post article.post",
        title="h1.entry-title",
        author_pattern=r"^Author:\s*(?P<author>[^|]+?)\s*\|",
        timezone="Asia/Kolkata",
        body="article.post .entry-content",
        drop=(".sharedaddy", ".jp-relatedposts", "script", "style", "form"),
        drop_text=(
            r"^Author:\s*[^|]+\|\s*EQMint",
            r"^For more such information visit EQMint",
            r"^Disclaimer:",
            r"^Related Tags:",
        ),
    )
