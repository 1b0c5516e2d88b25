"""Text normalization and content hashes: what counts as "the same story text".

Two versions of a story are the same when their normalized title and body are equal: noise a
reader does not care about (whitespace, letter case of markup, view counters, "updated N
minutes ago" stamps) is removed before hashing, so it never makes a new version.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_NOISE = [
    re.compile(r"\bviews?\s*:?\s*[\d,.\s]+k?\b", re.I),
    re.compile(r"\b(updated|posted|published)\s+\d+\s+\w+\s+ago\b", re.I),
    re.compile(r"\b\d+\s+(seconds?|minutes?|mins?|hours?|hrs?|days?)\s+ago\b", re.I),
    re.compile(r"\b\d+\s+(comments?|shares?|likes?|reads?)\b", re.I),
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
