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
# for a fraction of a pattern's cost. With ``counted``, a word only counts after a number and
# whitespace ("3 comments"): "like" and "read" are in nearly every text, and running the
# pattern over one of news length cost more than the rest of normalizing it.
_NOISE = [
    (("view",), False, re.compile(r"\bviews?\s*:?\s*[\d,.\s]+k?\b[.;,]?", re.I)),
    (
        ("ago",),
        False,
        re.compile(r"\b(updated|posted|published)\s+\d+\s+\w+\s+ago\b[.;,]?", re.I),
    ),
    (
        ("ago",),
        False,
        re.compile(r"\b\d+\s+(seconds?|minutes?|mins?|hours?|hrs?|days?)\s+ago\b[.;,]?", re.I),
    ),
    (
        ("comment", "share", "like", "read"),
        True,
        re.compile(r"\b\d+\s+(comments?|shares?|likes?|reads?)\b[.;,]?", re.I),
    ),
]
# What re.IGNORECASE lets match an ASCII "i" besides "i" and "I" (after NFKC, which already
# turns the Kelvin sign and the long s into "K" and "s").
_DOTTED_I = (("\u0130", "i"), ("\u0131", "i"))
# What r"\w" leaves out of ASCII text, as spaces (see ascii_words).
_ASCII_NON_WORDS = bytes(c if chr(c).isalnum() or c == ord("_") else ord(" ") for c in range(128))
_ASCII_NON_WORDS += b" " * 128
_QUOTES = (("‘", "'"), ("’", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-"))


def normalize(text: str) -> str:
    """Text reduced to what a reader would call its content."""
    text = _replaced(unicodedata.normalize("NFKC", text or ""), _QUOTES)
    ascii_only = text.isascii()
    lowered = _lowered(text, ascii_only)
    noisy = False
    for words, counted, pattern in _NOISE:
        if counted:
            # A removal leaves a space, which can put a number before a word: look again.
            present = _counted(_lowered(text, ascii_only) if noisy else lowered, words)
        else:
            present = any(word in lowered for word in words)
        if present:
            text, found = pattern.subn(" ", text)
            noisy = noisy or bool(found)
    if ascii_only and not noisy:
        return " ".join(lowered.split())  # ASCII: lower() is casefold()
    # str.split() splits where r"\s+" matches (both use Unicode's whitespace), much faster.
    return " ".join(text.split()).casefold()


def _lowered(text: str, ascii_only: bool) -> str:
    """The text in lower case, matched as re.IGNORECASE would match it."""
    return (text if ascii_only else _replaced(text, _DOTTED_I)).lower()


def _counted(lowered: str, words: tuple[str, ...]) -> bool:
    """Whether one of ``words`` follows a digit and whitespace (what r"\\d\\s+word" needs;
    re's \\d and \\s are str.isdecimal and str.isspace) in a lower-cased text."""
    for word in words:
        start = lowered.find(word)
        while start >= 0:
            before = start
            while before > 0 and lowered[before - 1].isspace():
                before -= 1
            if 0 < before < start and lowered[before - 1].isdecimal():
                return True
            start = lowered.find(word, start + 1)
    return False


def _replaced(text: str, pairs: tuple[tuple[str, str], ...]) -> str:
    """``text`` with each character of ``pairs`` replaced: str.replace scans at memory speed,
    str.translate looks every character of a non-ASCII text up in a dict, 40 times slower."""
    if text.isascii():
        return text
    for old, new in pairs:
        if old in text:
            text = text.replace(old, new)
    return text


def ascii_words(text: str) -> list[bytes]:
    """The runs of word characters (what r"\\w+" finds) of an ASCII text, as bytes: one
    bytes.translate and a split, three times faster than the regular expression."""
    return text.encode("ascii").translate(_ASCII_NON_WORDS).split()
