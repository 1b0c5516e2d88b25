"""Making untrusted text (titles, bodies, error messages) safe to show."""

from __future__ import annotations

import re

# C0/C1 controls (terminal escape sequences start with ESC) and bidi marks, overrides and
# isolates, which can make a line display differently from what it contains.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"[\r\n\t]+")
# Unicode's line and paragraph separators break lines in some viewers, as LF does.
_SEPARATORS = str.maketrans({"\u2028": "\n", "\u2029": "\n"})


def terminal_safe(text: str | None, limit: int | None = None, keep_newlines: bool = False) -> str:
    """``text`` with control and bidi-override characters removed (newlines folded to spaces
    unless ``keep_newlines``), cut to ``limit`` characters with an ellipsis."""
    text = (text or "").replace("\r\n", "\n").translate(_SEPARATORS)
    if not keep_newlines:
        text = _NEWLINES.sub(" ", text)
    text = _UNSAFE.sub("", text)
    if limit and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def one_line(text: str | None, limit: int | None = None) -> str:
    """Untrusted text for a single-line field (a mail subject, a header): no line breaks."""
    return " ".join(terminal_safe(text, limit).split())
