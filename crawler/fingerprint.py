"""Text normalization and content hashes: what counts as "the same story text".

Two versions of a story are the same when their normalized title and body are equal: noise a
reader does not care about (whitespace, letter case of markup, view counters, "updated N
minutes ago" stamps) is removed before hashing, so it never makes a new version.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

# Each pattern takes the punctuation that closes it, so "Updated 5 minutes ago." leaves no
# stray full stop that would still differ from the text without it.
_NOISE = [
    re.compile(r"\bviews?\s*:?\s*[\d,.\s]+k?\b[.;,]?", re.I),
    re.compile(r"\b(updated|posted|published)\s+\d+\s+\w+\s+ago\b[.;,]?", re.I),
    re.compile(r"\b\d+\s+(seconds?|minutes?|mins?|hours?|hrs?|days?)\s+ago\b[.;,]?", re.I),
    re.compile(r"\b\d+\s+(comments?|shares?|likes?|reads?)\b[.;,]?", re.I),
]
_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normalize(text: str) -> str:
    """Text reduced to what a reader would call its content."""
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    for pattern in _NOISE:
        text = pattern.sub(" ", text)
    return _SPACE.sub(" ", text).strip().casefold()


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
    from crawler import neardup

    body = normalize(text)
    content = hashlib.sha256((normalize(title) + "\n" + body).encode("utf-8")).hexdigest()
    if len(body) < MIN_DUPLICATE_CHARS:
        return Fingerprints(content)
    return Fingerprints(
        content,
        hashlib.sha256(body.encode("utf-8")).hexdigest(),
        tuple(neardup.signature_of_normalized(body)),
    )
