"""Extraction of a story page: metadata (title, dates, authors), the per-site profile that
learns a site's boilerplate, and the shared readers of structured data (JSON-LD, meta tags)."""
