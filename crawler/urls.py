"""URL canonicalization: one story, one URL, before any request is scheduled and before storage."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that only track the visitor; removing them never changes the page.
TRACKING_PARAMS = re.compile(
    r"^(utm_\w+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|igshid|_ga|_gl|"
    r"ref|ref_src|ref_url|cmpid|ito|ncid|sr_share|s_cid|__twitter_impression|amp)$",
    re.I,
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# AMP and print variants of a story: /amp/, /amp, ?amp=1, .amp, /print/
_VARIANT_SUFFIX = re.compile(r"(/amp|/print|\.amp)/?$", re.I)
_VARIANT_PREFIX = re.compile(r"^/amp(/.+)$", re.I)


def canonicalize_url(url: str, base: str | None = None) -> str:
    """The canonical form of ``url`` (resolved against ``base``): lower-case scheme and host,
    no default port, no fragment, no tracking parameters, remaining parameters sorted, AMP and
    print variants folded into the story URL."""
    if base:
        url = urljoin(base, url.strip())
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    path = _fold_variants(parts.path or "/")
    query = urlencode(
        sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
               if not TRACKING_PARAMS.match(k))
    )
    return urlunsplit((scheme, netloc, path, query, ""))


def _fold_variants(path: str) -> str:
    m = _VARIANT_PREFIX.match(path)
    if m:
        path = m.group(1)
    m = _VARIANT_SUFFIX.search(path)
    if m and m.start() > 0:
        # WordPress' /slug/amp/ folds to /slug/, a bare /slug/amp to /slug
        path = path[: m.start()] + ("/" if path.endswith("/") else "")
    return path


def same_site(url: str, base: str) -> bool:
    """Whether ``url`` is on the host (and port) of ``base``: only that host is crawled."""
    a, b = urlsplit(url), urlsplit(base)
    return (a.hostname or "").lower() == (b.hostname or "").lower() and _port(a) == _port(b)


def _port(parts: object) -> int | None:
    p = parts.port  # type: ignore[attr-defined]
    return p if p is not None else _DEFAULT_PORTS.get(parts.scheme)  # type: ignore[attr-defined]
