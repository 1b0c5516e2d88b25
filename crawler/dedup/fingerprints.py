"""Content hashes and the MinHash signature of a story: what storage compares.

Two versions of a story are the same when their normalized title and body are equal: noise a
reader does not care about (whitespace, letter case of markup, view counters, "updated N
minutes ago" stamps) is removed before hashing, so it never makes a new version.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from crawler.dedup.minhash import signature_of_normalized
from crawler.dedup.normalize import normalize


def content_hash(title: str, text: str) -> str:
    """Hash of the normalized title and body (hex SHA-256)."""
    payload = normalize(title) + "\n" + normalize(text)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def body_hash(text: str) -> str:
    """Hash of the normalized body alone: the same text under another title is a duplicate."""
    return hashlib.sha256(normalize(text).encode("utf-8")).hexdigest()


# Bodies shorter than this are too generic ("Photo gallery", a one-line brief) to call two
# stories the same by their text alone.
MIN_DUPLICATE_CHARS = 200


@dataclass(frozen=True)
class Fingerprints:
    content_hash: str
    body_hash: str = ""  # empty for bodies too short to judge duplicates by
    signature: tuple[int, ...] = ()  # MinHash of the body, for near-duplicates


def fingerprints(title: str, text: str) -> Fingerprints:
    """Every fingerprint of a story, normalizing its body once (this runs for every page)."""
    body = normalize(text)
    content = hashlib.sha256((normalize(title) + "\n" + body).encode("utf-8")).hexdigest()
    if len(body) < MIN_DUPLICATE_CHARS:
        return Fingerprints(content)
    return Fingerprints(
        content,
        hashlib.sha256(body.encode("utf-8")).hexdigest(),
        tuple(signature_of_normalized(body)),
    )
