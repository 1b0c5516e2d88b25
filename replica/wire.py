"""HTTP details the server applies to every site response: validators, 304s, gzip, fault bodies."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from replica.base import HTML, Response
from replica.faults import Fault

COMPRESSIBLE = ("text/", "application/xml", "application/rss+xml", "application/json")
MIN_GZIP_SIZE = 256  # like nginx's gzip_min_length: tiny bodies are not worth it


def http_date(when: datetime) -> str:
    """An IMF-fixdate ("Tue, 28 Oct 2025 06:06:00 GMT")."""
    return format_datetime(when.astimezone(UTC), usegmt=True)


def etag_of(body: bytes) -> str:
    """A strong ETag derived from the identity-encoded body."""
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


def gzip_etag(etag: str) -> str:
    """The ETag of the gzip-encoded variant (strong tags must differ per encoding)."""
    return etag[:-1] + '-gzip"'


def not_modified(headers: Mapping[str, str], etag: str, last_modified: datetime) -> bool:
    """RFC 9110 evaluation: If-None-Match wins; If-Modified-Since is used only without it."""
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return "*" in tags or bool(tags & {etag, gzip_etag(etag)})
    ims = headers.get("If-Modified-Since")
    if ims is None:
        return False
    try:
        since = parsedate_to_datetime(ims)
    except (TypeError, ValueError):
        return False  # an unparseable date is ignored, as the RFC requires
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


def wants_gzip(headers: Mapping[str, str]) -> bool:
    """Whether Accept-Encoding allows gzip (q=0 refuses it)."""
    for item in headers.get("Accept-Encoding", "").split(","):
        name, _, params = item.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def compressible(resp: Response) -> bool:
    """Text-like bodies big enough to compress."""
    return resp.content_type.startswith(COMPRESSIBLE) and len(resp.body) >= MIN_GZIP_SIZE


def compress(body: bytes) -> bytes:
    """gzip with a fixed mtime, so equal bodies give equal bytes."""
    return gzip.compress(body, mtime=0)


def fault_response(fault: Fault, target: str, origin: str) -> Response | None:
    """The response a fault replaces the site's with; None when the site should answer."""
    params: dict[str, Any] = fault.params
    if fault.kind == "status":
        return _status_response(params)
    if fault.kind == "redirect_loop":
        return _redirect_response(params, target, origin)
    if fault.kind == "body":
        body = params.get("body", b"")
        raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        return Response(raw, int(params.get("status", 200)), params.get("content_type", HTML))
    return None


def _status_response(params: dict[str, Any]) -> Response:
    code = int(params.get("code", params.get("status", 503)))
    body = params.get("body")
    if body is None:
        body = f"<html><head><title>{code}</title></head><body><h1>{code}</h1></body></html>"
    raw = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    headers = {str(k): str(v) for k, v in params.get("headers", {}).items()}
    if params.get("retry_after") is not None:
        headers["Retry-After"] = str(params["retry_after"])
    return Response(raw, code, params.get("content_type", HTML), headers)


def _redirect_response(params: dict[str, Any], target: str, origin: str) -> Response:
    # "self": always back to the same URL; "pair": bounce between URL and URL?_loop=1.
    location = target
    if params.get("mode", "self") == "pair":
        parts = urlsplit(target)
        query = parse_qsl(parts.query, keep_blank_values=True)
        looped = [(k, v) for k, v in query if k != "_loop"]
        if len(looped) == len(query):
            looped.append(("_loop", "1"))
        location = parts.path + ("?" + urlencode(looped) if looped else "")
    body = f'<html><body><a href="{location}">Found</a></body></html>'.encode()
    code = int(params.get("code", 302))
    return Response(body, code, HTML, {"Location": origin + location})
