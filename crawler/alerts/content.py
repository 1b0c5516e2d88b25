"""Reading a queued alert row into an :class:`Alert`: the story, its snippets, what changed."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from crawler.alerts import diff
from crawler.alerts.base import Alert, Change
from crawler.alerts.render import merge_snippets


class MissingStory(LookupError):
    """The alert's story (or that version of it) is no longer stored."""


def load_alert(db: sqlite_utils.Database, row: dict[str, Any]) -> Alert:
    """The alert described by an ``alerts`` row, with the story as stored at its version."""
    if row["article_id"] is None:
        return _notice(row)
    article_id, version = row["article_id"], row["version"]
    story = db.execute(
        "SELECT a.url, a.site, a.published, coalesce(v.title, a.title), coalesce(v.text, a.text) "
        "FROM articles a LEFT JOIN article_versions v ON v.article_id = a.id AND v.version = ? "
        "WHERE a.id = ?",
        (version, article_id),
    ).fetchone()
    if story is None:
        raise MissingStory(f"story {article_id} is no longer stored")
    url, site, published, title, text = story
    watches = tuple(w for w in (row["watches"] or "").split(",") if w)
    change = _change(db, article_id, version, title, text) if row["kind"] == "changed" else None
    return Alert(
        id=row["id"],
        kind=row["kind"],
        title=title or "",
        site=site,
        url=url,
        published=published,
        watches=watches,
        snippets=_snippets(db, article_id, watches),
        change=change,
    )


def _snippets(db: sqlite_utils.Database, article_id: int, watches: tuple[str, ...]) -> tuple:
    marks = ",".join("?" * len(watches))
    rows = db.execute(
        f"SELECT snippet FROM matches WHERE article_id = ? AND watch IN ({marks}) ORDER BY watch",
        (article_id, *watches),
    ).fetchall()
    # Two watches often hit the same passage: show it once, with both matches marked.
    return tuple(merge_snippets([r[0] for r in rows if r[0]]))


def _change(
    db: sqlite_utils.Database, article_id: int, version: int, title: str, text: str
) -> Change | None:
    previous = db.execute(
        "SELECT title, text FROM article_versions WHERE article_id = ? AND version < ? "
        "ORDER BY version DESC LIMIT 1",
        (article_id, version),
    ).fetchone()
    if previous is None:
        return None
    return diff.compare(previous[0], previous[1], title, text)


def _notice(row: dict[str, Any]) -> Alert:
    try:
        payload = json.loads(row["payload"] or "{}")
    except ValueError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    return Alert(
        id=row["id"],
        kind=row["kind"],
        title=str(payload.get("site") or "newsmon"),
        site=str(payload.get("site") or "newsmon"),
        message=str(payload.get("message") or ""),
    )
