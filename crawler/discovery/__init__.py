"""Finding stories: feed/sitemap/listing/REST parsers, the re-check policy, site search terms,
and `newsmon discover` (probing a new site)."""
