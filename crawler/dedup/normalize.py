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
_DOTTED_I = str.maketrans({"\u0130": "i", "\u0131": "i"})
_QUOTES = str.maketrans({"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def normalize(text: str) -> str:
    """Text reduced to what a reader would call its content."""
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    lowered = text.translate(_DOTTED_I).lower()
    for words, pattern in _NOISE:
        if any(word in lowered for word in words):
            text = pattern.sub(" ", text)
    # str.split() splits where r"\s+" matches (both use Unicode's whitespace), much faster.
    return " ".join(text.split()).casefold()
