"""Wording shared by every channel: headlines, dates, subjects and highlighted snippets.

Each channel escapes for its own format; these helpers only return plain, single-line text
(control characters and line breaks folded out), so article text cannot add lines or headers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from crawler.alerts.base import Alert
from crawler.db.matching import HIGHLIGHT_CLOSE, HIGHLIGHT_OPEN
from crawler.safe_text import one_line

TITLE_LIMIT = 250
SNIPPET_LIMIT = 600
APP = "newsmon"


def clean(text: str | None, limit: int | None = None) -> str:
    """Untrusted text as one safe line."""
    return one_line(text, limit)


def when(published: str | None) -> str:
    """A stored ISO 8601 time as ``2025-10-28 10:06 +04:00``, a bare day (the page gave no
    time) as ``2025-10-28``; 'date unknown' when missing."""
    if not published:
        return "date unknown"
    if len(published) == 10:  # YYYY-MM-DD: inventing 00:00 would claim a time nobody gave
        return clean(published, 10)
    try:
        dt = datetime.fromisoformat(published)
    except ValueError:
        return clean(published, 40)
    shown = dt.strftime("%Y-%m-%d %H:%M")
    return f"{shown} {dt.strftime('%z')[:3]}:{dt.strftime('%z')[3:]}" if dt.tzinfo else shown


def highlight(snippet: str, plain: Callable[[str], str], mark: Callable[[str], str]) -> str:
    """Render a stored snippet: ``plain`` for ordinary text, ``mark`` for matched words.

    Each piece is handed to the renderer separately, so escaping happens per piece and the
    markers never reach the message.
    """
    pieces = pieces_of(clean(snippet, SNIPPET_LIMIT))
    return "".join(mark(text) if marked else plain(text) for text, marked in pieces if text)


def pieces_of(snippet: str) -> list[tuple[str, bool]]:
    """A stored snippet split into (text, is a matched word) pieces.

    Matching stores matched words between HIGHLIGHT_OPEN and HIGHLIGHT_CLOSE; an unpaired
    marker (say, literal ``**`` in the article) is kept as text.
    """
    out: list[tuple[str, bool]] = []
    rest = snippet
    while True:
        start = rest.find(HIGHLIGHT_OPEN)
        end = rest.find(HIGHLIGHT_CLOSE, start + len(HIGHLIGHT_OPEN)) if start >= 0 else -1
        if start < 0 or end < 0:
            return [*out, (rest, False)]
        out += [(rest[:start], False), (rest[start + len(HIGHLIGHT_OPEN) : end], True)]
        rest = rest[end + len(HIGHLIGHT_CLOSE) :]


def merge_snippets(snippets: Sequence[str]) -> list[str]:
    """Snippets of the same passage (one per watch) merged into one with every match marked."""
    passages: dict[str, list[bool]] = {}
    for snippet in snippets:
        text, mask = "", []
        for piece, marked in pieces_of(snippet):
            text += piece
            mask += [marked] * len(piece)
        seen = passages.setdefault(text, mask)
        passages[text] = [a or b for a, b in zip(seen, mask, strict=True)]
    return [_remark(text, mask) for text, mask in passages.items()]


def _remark(text: str, mask: list[bool]) -> str:
    out, inside = [], False
    for char, marked in zip(text, mask, strict=True):
        if marked != inside:
            out.append(HIGHLIGHT_OPEN if marked else HIGHLIGHT_CLOSE)
            inside = marked
        out.append(char)
    return "".join(out) + (HIGHLIGHT_CLOSE if inside else "")


def label(alert: Alert) -> str:
    """What kind of message this is, for a headline."""
    return {
        "new": "New story",
        "changed": "Story changed",
        "health": "Site health",
        "recovered": "Site recovered",
        "test": "Test message",
    }.get(alert.kind, alert.kind)


def title_of(alert: Alert) -> str:
    return clean(alert.title, TITLE_LIMIT) or "(no title)"


def watch_names(alerts: Sequence[Alert]) -> list[str]:
    """Every watch named by these alerts, in first-seen order."""
    seen: dict[str, None] = {}
    for alert in alerts:
        for watch in alert.watches:
            seen.setdefault(clean(watch), None)
    return list(seen)


def subject(alerts: Sequence[Alert]) -> str:
    """A one-line summary: the watch and story for one alert, the count for a digest."""
    if len(alerts) == 1:
        alert = alerts[0]
        if alert.is_notice:
            return f"[{APP}] {label(alert)}: {clean(alert.site)}: {clean(alert.message, 120)}"
        if alert.kind == "test":
            return f"[{APP}] {label(alert)}: {title_of(alert)}"
        changed = " (changed)" if alert.kind == "changed" else ""
        watches = ", ".join(watch_names(alerts))
        return f"[{APP}] {watches}{changed}: {clean(alert.title, 150) or '(no title)'}"
    edits = sum(1 for a in alerts if a.kind == "changed")
    extra = f", {edits} changed" if edits else ""
    return f"[{APP}] {len(alerts)} stories{extra} matching {', '.join(watch_names(alerts))}"
