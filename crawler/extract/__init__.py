"""From a fetched page to a story: decoding, metadata, site rules, generic body extraction,
the extraction process pool, `newsmon extract`, and the extraction benchmark metric."""
