"""From a fetched page to a story: decoding, metadata (titles, dates, authors), site rules,
generic body extraction, the per-site profile that learns a site's boilerplate, the extraction
process pool, `newsmon extract`, and the extraction benchmark metric."""
