"""Text normalization: what counts as "the same story text".

Noise a reader does not care about (whitespace, letter case, typographic quotes, view counters,
"updated N minutes ago" stamps) is removed before texts are hashed or compared, so it never
makes a new version or hides a duplicate.
"""

from __future__ import annotations

import re
import unicodedata

# Each pattern takes the punctuation that closes it, so "Updated 5 minutes ago." leaves no
# stray full stop that would still differ from the text without it. Each comes with the words
# it cannot match without: most texts have no counter or stamp, and a substring test says so
# for a fraction of a pattern's cost.
_NOISE = [
    (("view",), re.compile(r"\bviews?\s*:?\s*[\d,.\s]+k?\b[.;,]?", re.I)),
    (("ago",), re.compile(r"\b(updated|posted|published)\s+\d+\s+\w+\s+ago\b[.;,]?", re.I)),
    (
        ("ago",),
        re.compile(r"\b\d+\s+(seconds?|minutes?|mins?|hours?|hrs?|days?)\s+ago\b[.;,]?", re.I),
    ),
    (
        ("comment", "share", "like", "read"),
        re.compile(r"\b\d+\s+(comments?|shares?|likes?|reads?)\b[.;,]?", re.I),
    ),
]
# What re.IGNORECASE lets match an ASCII "i" besides "i" and "I" (after NFKC, which already
# turns the Kelvin sign and the long s into "K" and "s").
_DOTTED_I = (("\u0130", "i"), ("\u0131", "i"))
_QUOTES = (("‘", "'"), ("’", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-"))


def normalize(text: str) -> str:
    """Text reduced to what a reader would call its content."""
    text = _replaced(unicodedata.normalize("NFKC", text or ""), _QUOTES)
    ascii_only = text.isascii()
    lowered = (text if ascii_only else _replaced(text, _DOTTED_I)).lower()
    noisy = False
    for words, pattern in _NOISE:
        if any(word in lowered for word in words):
            text, found = pattern.subn(" ", text)
            noisy = noisy or bool(found)
    if ascii_only and not noisy:
        return " ".join(lowered.split())  # ASCII: lower() is casefold()
    # str.split() splits where r"\s+" matches (both use Unicode's whitespace), much faster.
    return " ".join(text.split()).casefold()


def _replaced(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """``text`` with each character of ``pairs`` replaced: str.replace scans at memory speed,
    str.translate looks every character of a non-ASCII text up in a dict, 40 times slower."""
    if text.isascii():
        return text
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text
