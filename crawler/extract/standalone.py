"""`newsmon extract`: extraction of saved pages or URLs, outside any crawl."""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

from crawler.extract.article import SiteRules, extract_article
from crawler.urls import canonicalize_url

MAX_BYTES = 8 * 1024 * 1024
TIMEOUT = 30


def read_source(source: str, user_agent: str = "newsmon") -> tuple[bytes, str | None]:
    """The bytes of a file or URL, and the URL when it was one."""
    if source.startswith(("http://", "https://")):
        request = urllib.request.Request(source, headers={"User-Agent": user_agent})
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            return response.read(MAX_BYTES + 1)[:MAX_BYTES], response.geturl()
    return Path(source).read_bytes()[:MAX_BYTES], None


def extract_sources(sources: tuple[str, ...], rules: SiteRules | None) -> list[dict[str, Any]]:
    """One result object per source, in order: url, title, author, published, language, text
    (plus ``error`` when a source could not be read; with site ``rules``, ``rules_matched``
    and the ``fallbacks``: fields the rules missed, taken from generic extraction)."""
    out = []
    for source in sources:
        try:
            body, url = read_source(source)
        except (OSError, ValueError) as exc:
            out.append(
                {
                    "source": source,
                    "url": None,
                    "title": None,
                    "author": None,
                    "published": None,
                    "language": None,
                    "text": "",
                    "error": str(exc),
                }
            )
            continue
        found = extract_article(body, url, rules)
        canonical = canonicalize_url(found.canonical, base=url) if found.canonical else None
        result: dict[str, Any] = {
            "url": canonical or (canonicalize_url(url) if url else None),
            "title": found.title or None,
            "author": found.author,
            "published": found.published,
            "language": found.language,
            "text": found.text,
        }
        if found.rules_matched:
            result.update(rules_matched=found.rules_matched, fallbacks=list(found.fallbacks))
        out.append(result)
    return out
