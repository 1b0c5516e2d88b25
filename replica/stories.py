"""Load the bundled stories from `replica/data/<site>/*.txt`.

One file per story: `key: value` header lines, a blank line, then paragraphs separated by blank
lines. A paragraph starting with "## " or "### " is a subheading. Header keys: slug, title,
author, published, modified (ISO 8601 with offset), section, language, views, tags and related
(comma-separated), comment ("Name | text", repeatable). Keeping the text out of Python source
keeps the seed paragraphs byte-exact and free of line-length wrapping.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from replica.base import Heading, Story

DATA_DIR = Path(__file__).parent / "data"
_LIST_KEYS = {"tags", "related"}
_SCALAR_KEYS = {"slug", "title", "author", "section", "language"}


def load_stories(site: str) -> list[Story]:
    """Every story of a bundled site, newest first."""
    paths = sorted((DATA_DIR / site).glob("*.txt"))
    stories = [parse_story(p.read_text(encoding="utf-8"), str(p)) for p in paths]
    return sorted(stories, key=lambda s: s.published, reverse=True)


def parse_story(text: str, source: str = "<story>") -> Story:
    """Build a Story from the file format described in the module docstring."""
    header, _, body = text.partition("\n\n")
    fields: dict[str, Any] = {"author": None, "comments": []}
    for line in header.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{source}: bad header line {line!r}")
        _set_field(fields, key.strip(), value.strip(), source)
    fields["paragraphs"] = [_paragraph(block) for block in body.split("\n\n") if block.strip()]
    return Story(**fields)


def _set_field(fields: dict[str, Any], key: str, value: str, source: str) -> None:
    if key in _SCALAR_KEYS:
        fields[key] = value
    elif key in _LIST_KEYS:
        fields[key] = [item.strip() for item in value.split(",") if item.strip()]
    elif key in {"published", "modified"}:
        fields[key] = datetime.fromisoformat(value)
    elif key == "views":
        fields[key] = int(value)
    elif key == "comment":
        name, _, said = value.partition("|")
        fields["comments"].append((name.strip(), said.strip()))
    else:
        raise ValueError(f"{source}: unknown header key {key!r}")


def _paragraph(block: str) -> str:
    text = " ".join(line.strip() for line in block.strip().splitlines())
    for marker, level in (("### ", 3), ("## ", 2)):
        if text.startswith(marker):
            return Heading(text[len(marker) :], level)
    return text
