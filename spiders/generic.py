"""Any site added by configuration alone: the sources come from the site's config entry.

With neither ``feeds`` nor ``sitemaps`` in the entry, the spider autodiscovers them on every run:
the home page (a listing, and its ``<link rel="alternate">`` feeds), robots.txt (``Sitemap:``
lines) and the well-known paths below. Each guess that finds nothing is remembered for a day,
and everything found is fetched with conditional GET, so this costs a few 304s per run. Giving
either key, even as ``[]``, says the list is complete and turns autodiscovery off (what
``newsmon discover`` writes). WordPress is detected by asking its REST API, unless the entry
says ``wordpress: true`` or ``false``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

import scrapy
from scrapy.http import Response

from crawler.discovery.parsers import HOME, ROBOTS, WP_API
from crawler.discovery.search_terms import search_terms
from crawler.discovery.well_known import NOT_STORIES, WELL_KNOWN, WP_POSTS, WP_SEARCH
from spiders.base import NewsSpider


class GenericSpider(NewsSpider):
    """A spider made of the site's config entry; see the module docstring."""

    name = "generic"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        if self.site.wordpress:
            self.wp_api = (WP_POSTS, WP_SEARCH)

    @property
    def trust_pattern(self) -> bool:
        """A configured article_pattern is the user's word that matching pages are stories."""
        return bool(self.site.article_pattern)

    @property
    def speculative(self) -> bool:
        return not self.site.article_pattern

    @property
    def autodiscover(self) -> bool:
        """No ``feeds`` and no ``sitemaps`` key in the site's entry."""
        return not {"feeds", "sitemaps"} & self.site.model_fields_set

    def is_story_url(self, url: str) -> bool:
        # Without an article_pattern every same-site link is a candidate; extraction then keeps
        # only pages that say they are stories (JSON-LD article types, og:type=article).
        if url.rstrip("/") == self.base_url.rstrip("/"):
            return False
        return super().is_story_url(url) and (self.trust_pattern or not NOT_STORIES.search(url))

    def source_requests(self) -> Iterable[scrapy.Request]:
        """The configured sources, then autodiscovery's guesses and the WordPress probe."""
        yield from super().source_requests()
        probes = [(HOME, self.base_url), (ROBOTS, "/robots.txt"), *WELL_KNOWN]
        probes = probes if self.autodiscover else []
        if self.site.wordpress is None:
            probes.append((WP_API, WP_POSTS))
        for kind, path in probes:
            request = self.source_request(kind, path, probe=True, wordpress=kind == WP_API)
            if request is not None:
                yield request

    def more_sources(self, response: Response) -> Iterable[scrapy.Request]:
        """Once the REST API answered, WordPress's search for the watches' words."""
        if not response.meta.get("wordpress"):
            return
        for words in search_terms(w.query for w in self.config.watches):
            request = self.source_request(WP_API, WP_SEARCH.format(words=quote(words)))
            if request is not None:
                yield request
