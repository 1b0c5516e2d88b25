"""What changed between two stored versions of a story: the title and whole sentences.

Sentences are compared as sets (after whitespace and case folding), not as a line diff: an
editor who moves a paragraph has not changed what the story says, and a reader skimming an
alert wants the new and the withdrawn statements, not a patch.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from crawler.alerts.base import Change
from crawler.dedup.normalize import normalize

MAX_SENTENCES = 5
SENTENCE_LIMIT = 300
# A sentence ends at . ! ? … (optionally followed by a closing quote or bracket) before
# whitespace, or at a paragraph break.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n+")


def sentences(text: str) -> list[str]:
    """The sentences of a story body, in order, without empty ones."""
    return [s.strip() for s in _SENTENCE_END.split(text or "") if s and s.strip()]


def compare(old_title: str, old_text: str, new_title: str, new_text: str) -> Change:
    """The title change (if any) and the sentences added and removed."""
    title_changed = normalize(old_title) != normalize(new_title)
    old, new = sentences(old_text), sentences(new_text)
    old_keys = {normalize(s) for s in old}
    new_keys = {normalize(s) for s in new}
    added = _unique(s for s in new if normalize(s) not in old_keys)
    removed = _unique(s for s in old if normalize(s) not in new_keys)
    return Change(
        old_title=old_title if title_changed else None,
        added=tuple(_cut(s) for s in added[:MAX_SENTENCES]),
        removed=tuple(_cut(s) for s in removed[:MAX_SENTENCES]),
        more_added=max(0, len(added) - MAX_SENTENCES),
        more_removed=max(0, len(removed) - MAX_SENTENCES),
    )


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for s in items:
        seen.setdefault(normalize(s), s)
    return list(seen.values())


def _cut(sentence: str) -> str:
    if len(sentence) <= SENTENCE_LIMIT:
        return sentence
    return sentence[: SENTENCE_LIMIT - 1] + "…"
