"""URL canonicalization of stored stories: the page's own canonical link wins when it points
to the same site, and every other URL the story was reached by is kept as an alias."""

from __future__ import annotations

from crawler.story import Story
from crawler.urls import canonicalize_url, same_site


class CanonicalPipeline:
    """Sets ``item.url`` to the story's canonical URL and records the others as aliases."""

    def process_item(self, item: Story) -> Story:
        fetched = canonicalize_url(item.url)
        declared = item.hints.get("canonical")
        url = fetched
        if declared:
            candidate = canonicalize_url(declared, base=item.url)
            # A canonical link to another host is a syndication claim, not an alias: the
            # near-duplicate check handles copies across sites.
            if same_site(candidate, fetched):
                url = candidate
        aliases = {canonicalize_url(u) for u in [item.url, *item.aliases]} - {url}
        item.url, item.aliases = url, sorted(aliases)
        return item
