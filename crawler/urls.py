"""URL canonicalization: one story, one URL, before any request is scheduled and before storage.

``w3lib.url.canonicalize_url`` (Scrapy's own) does the general part: lower-case scheme and host,
IDNA host names, one percent-encoding of the path, sorted query, no fragment. newsmon adds what
a story monitor needs on top: tracking parameters, user info, default ports and a trailing dot
removed, and AMP / print variants folded into the story URL.
"""

from __future__ import annotations

import contextlib
import functools
import re
from urllib.parse import SplitResult, parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url as w3lib_canonicalize_url

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
    """The canonical form of ``url`` (resolved against ``base``): see the module docstring."""
    if base:
        url = urljoin(base, url.strip())
    return _canonical(url.strip())


# A story's URL is canonicalized several times on its way (discovery, the canonical link, its
# aliases, storage): the last few thousand answers are kept, by the absolute URL, so that a
# page's canonical link to itself is a hit whatever page it is resolved against.
@functools.lru_cache(maxsize=4096)
def _canonical(url: str) -> str:
    parts = urlsplit(url)
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not TRACKING_PARAMS.match(k)
        ]
    )
    url = urlunsplit((parts.scheme, _netloc(parts), parts.path or "/", query, ""))
    with contextlib.suppress(ValueError):  # a malformed port: keep what was written
        url = w3lib_canonicalize_url(url)
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=_fold_variants(parts.path)))


def _netloc(parts: SplitResult) -> str:
    """Host and non-default port; user info is dropped (it never names another story)."""
    host = _host(parts)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # a malformed port: keep what was written rather than fail the page
        return parts.netloc.rpartition("@")[2].lower()
    return host if port in (None, _DEFAULT_PORTS.get(parts.scheme.lower())) else f"{host}:{port}"


def _host(parts: SplitResult) -> str:
    host = (parts.hostname or "").rstrip(".")
    if not host.isascii():
        with contextlib.suppress(UnicodeError):  # not a valid IDN: compare as written
            host = host.encode("idna").decode("ascii")
    return host.lower()


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
    a, b = urlsplit(url.strip()), urlsplit(base.strip())
    try:
        return _host(a) == _host(b) and _port(a) == _port(b)
    except ValueError:  # a malformed port is no port of ours
        return False


def _port(parts: SplitResult) -> int | None:
    return parts.port if parts.port is not None else _DEFAULT_PORTS.get(parts.scheme.lower())
