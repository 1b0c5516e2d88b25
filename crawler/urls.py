"""URL canonicalization: one story, one URL, before any request is scheduled and before storage."""

from __future__ import annotations

import contextlib
import re
from urllib.parse import SplitResult, parse_qsl, quote, urlencode, urljoin, urlsplit, urlunsplit

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
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
# Characters a path may hold unescaped (RFC 3986 pchar and "/"); "%" keeps existing escapes.
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def canonicalize_url(url: str, base: str | None = None) -> str:
    """The canonical form of ``url`` (resolved against ``base``): lower-case scheme and host,
    no default port, no fragment, no tracking parameters, remaining parameters sorted, AMP and
    print variants folded into the story URL, one percent-encoding of the path."""
    if base:
        url = urljoin(base, url.strip())
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    path = _fold_variants(_encode_path(parts.path or "/"))
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not TRACKING_PARAMS.match(k)
        )
    )
    return urlunsplit((scheme, _netloc(parts), path, query, ""))


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


def _encode_path(path: str) -> str:
    """One spelling per path: links in HTML may be raw Unicode while the fetched URL is
    percent-encoded, and encoders differ in the case of hex digits and in escaping ``~``."""
    path = quote(path, safe=_PATH_SAFE)

    def one(m: re.Match[str]) -> str:
        char = chr(int(m.group(1), 16))
        return char if char in _UNRESERVED else "%" + m.group(1).upper()

    return _ESCAPE.sub(one, path)


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
