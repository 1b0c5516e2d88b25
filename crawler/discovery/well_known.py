"""Where sites keep their stories, for a site that names none: the paths feeds and sitemaps
usually live at, the WordPress REST API, and the URLs that are never stories. Used by the
generic spider's autodiscovery and by `newsmon discover`."""

from __future__ import annotations

import re

from crawler.discovery.parsers import FEED, SITEMAP

WELL_KNOWN = (
    (FEED, "/feed/"),
    (FEED, "/rss.xml"),
    (FEED, "/atom.xml"),
    (SITEMAP, "/sitemap.xml"),
    (SITEMAP, "/sitemap_index.xml"),
    (SITEMAP, "/wp-sitemap.xml"),
    (SITEMAP, "/news-sitemap.xml"),
)
# The WordPress REST API's posts, with only the fields discovery reads (``_fields``, WordPress
# 4.9.8+; older versions ignore it): a hundred posts with their content and SEO data are
# 1-3 MB, parsed on the reactor's thread, where the fields needed take a few KB.
_WP_FIELDS = "&_fields=link,title,date_gmt,modified_gmt"
WP_POSTS = "wp-json/wp/v2/posts?per_page=100" + _WP_FIELDS
WP_SEARCH = "wp-json/wp/v2/posts?search={words}&per_page=100" + _WP_FIELDS
# Without an article_pattern every same-site link is a candidate; these are never stories.
NOT_STORIES = re.compile(
    r"\.(xml|rss|atom|json|gz|txt|jpe?g|png|gif|webp|svg|ico|css|js|pdf|zip|mp3|mp4)$"
    r"|/(feed|wp-json|wp-admin|wp-content|wp-includes|tag|category|author|page|search|login)/"
    r"|[?&](s|replytocom|share)=",
    re.IGNORECASE,
)
