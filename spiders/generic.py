"""Any site added by configuration alone: the sources come from the site's config entry."""

from __future__ import annotations

from spiders.base import NewsSpider


class GenericSpider(NewsSpider):
    name = "generic"

    @property
    def trust_pattern(self) -> bool:
        """A configured article_pattern is the user's word that matching pages are stories."""
        return bool(self.site.article_pattern)

    def is_story_url(self, url: str) -> bool:
        # Without an article_pattern every same-site link is a candidate; extraction then keeps
        # only pages that say they are stories (JSON-LD article types, og:type=article).
        return super().is_story_url(url) and not url.rstrip("/") == self.base_url.rstrip("/")
