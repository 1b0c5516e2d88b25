"""Saving extracted stories: new, unchanged, changed (a new version) or duplicate.

Everything one story causes (the article row, its version, its matches, its queued alerts)
is written in the caller's transaction, so a crash never leaves half a story or a match
without its alert.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import sqlite_utils

from crawler.db import near_duplicates
from crawler.db.connection import utcnow
from crawler.db.matching import Match, WatchQuery, index_article, match_articles
from crawler.db.outbox import alerted_channels, enqueue_routed
from crawler.dedup.fingerprints import content_hash
from crawler.dedup.normalize import normalize
from crawler.story import Story

NEW, CHANGED, UNCHANGED, DUPLICATE = "new", "changed", "unchanged", "duplicate"


@dataclass(frozen=True)
class SaveContext:
    """What saving needs to know beyond the story: the watches, the alert channels, and
    which channels each watch alerts (``routes``; a watch not in it, or no routes at all:
    every channel)."""

    watches: Sequence[WatchQuery | tuple[str, str]]  # or (name, FTS5 query) without aliases
    channels: Sequence[str]
    routes: Mapping[str, Sequence[str]] | None = None

    def route(self, matched: Sequence[str]) -> dict[str, list[str]]:
        """channel -> the matched watches routed to it, for the channels that get any."""
        out: dict[str, list[str]] = {c: [] for c in self.channels}
        for watch in matched:
            wanted = self.channels if self.routes is None else self.routes.get(watch, self.channels)
            for channel in wanted:
                if channel in out:
                    out[channel].append(watch)
        return {c: watches for c, watches in out.items() if watches}


@dataclass(frozen=True)
class Saved:
    outcome: str
    article_id: int
    matched: tuple[str, ...] = ()


def find_article(db: sqlite_utils.Database, urls: Sequence[str]) -> dict | None:
    """The stored article reached by any of these URLs (canonical or alias)."""
    for url in urls:
        row = db.execute(
            "SELECT a.* FROM articles a WHERE a.url = ? UNION ALL "
            "SELECT a.* FROM article_urls u JOIN articles a ON a.id = u.article_id "
            "WHERE u.url = ? LIMIT 1",
            (url, url),
        ).fetchone()
        if row is not None:
            cols = [d[0] for d in db.execute("SELECT * FROM articles LIMIT 0").description]
            return dict(zip(cols, row, strict=True))
    return None


def save_story(db: sqlite_utils.Database, story: Story, ctx: SaveContext) -> Saved:
    """Store one story; call inside a transaction."""
    return save_stories(db, [story], ctx)[0]


@dataclass(frozen=True)
class _Written:
    """A story whose rows are written, waiting for its matches and alerts."""

    outcome: str
    article_id: int
    version: int = 0  # 0: nothing new to match (unchanged)
    duplicate: bool = False  # a copy of another stored story: matched, never alerted


def save_stories(
    db: sqlite_utils.Database, stories: Sequence[Story], ctx: SaveContext
) -> list[Saved]:
    """Store stories in order; call inside a transaction. Their rows are written one by one
    (a story may be a duplicate of one before it), then the watches run once over all that
    are new or changed (``match_articles``), then each one's matches and alerts are
    recorded."""
    now = utcnow()
    saved: list[Saved] = []
    written: list[_Written] = []
    for story in stories:
        existing = find_article(db, [story.url, *story.aliases])
        if existing is not None and any(w.article_id == existing["id"] for w in written):
            # The same story twice: the first is matched on its own text, as if alone.
            saved += _match_and_finish(db, written, ctx, now)
            written = []
        written.append(_write(db, story, existing, now))
    return saved + _match_and_finish(db, written, ctx, now)


def _match_and_finish(
    db: sqlite_utils.Database, written: list[_Written], ctx: SaveContext, now: str
) -> list[Saved]:
    fresh = [w.article_id for w in written if w.version]
    found = match_articles(db.conn, fresh, ctx.watches) if fresh and ctx.watches else {}
    return [_finish(db, w, found.get(w.article_id, []), ctx, now) for w in written]


def _write(db: sqlite_utils.Database, story: Story, existing: dict | None, now: str) -> _Written:
    if existing is None:
        return _insert(db, story, now)
    _remember_aliases(db, existing["id"], [story.url, *story.aliases])
    if story.not_modified or _same_story(existing, story):
        db.execute(
            "UPDATE articles SET last_seen = ?, last_checked = ?, "
            "etag = coalesce(?, etag), last_modified = coalesce(?, last_modified) WHERE id = ?",
            (now, now, story.etag, story.last_modified, existing["id"]),
        )
        return _Written(UNCHANGED, existing["id"])
    return _new_version(db, existing, story, now)


def _finish(
    db: sqlite_utils.Database, written: _Written, found: list[Match], ctx: SaveContext, now: str
) -> Saved:
    """Record a written story's matches and queue its alerts."""
    article_id, version = written.article_id, written.version
    if not version:
        return Saved(written.outcome, article_id)
    # Channels that showed the story before this version, read before it is queued anywhere.
    alerted = alerted_channels(db, article_id) if written.outcome == CHANGED else set()
    matched = _record_matches(db, article_id, version, found, now)
    if written.duplicate:
        return Saved(DUPLICATE if written.outcome == NEW else written.outcome, article_id, matched)
    # An edit of a story a channel already alerted on is a "changed" alert there; to a
    # channel that has not shown the story (it only now matches a watch routed there), it is
    # news.
    routed = {c: ("changed" if c in alerted else "new", w) for c, w in ctx.route(matched).items()}
    enqueue_routed(db, article_id, version, routed)
    return Saved(written.outcome, article_id, matched)


def _same_story(existing: dict, story: Story) -> bool:
    """Whether a fetched story is the stored one: the same content hash, or the same once the
    blocks this fetch removed as the site's boilerplate are taken out of the stored text too
    (the site's profile learned them after the story was stored; the story did not change)."""
    if existing["content_hash"] == story.content_hash:
        return True
    if not story.boilerplate:
        return False
    dropped = {normalize(block) for block in story.boilerplate}
    kept = [b for b in existing["text"].split("\n\n") if normalize(b) not in dropped]
    return content_hash(existing["title"], "\n\n".join(kept)) == story.content_hash


def _insert(db: sqlite_utils.Database, story: Story, now: str) -> _Written:
    duplicate_of = _duplicate_of(db, story)
    cur = db.execute(
        "INSERT INTO articles (url, site, title, author, published, modified, language, "
        "description, text, content_hash, body_hash, version, duplicate_of, etag, "
        "last_modified, first_seen, last_seen, last_checked) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
        (
            story.url,
            story.site,
            story.title,
            story.author,
            story.published,
            story.modified,
            story.language,
            story.description,
            story.text,
            story.content_hash,
            story.body_hash,
            duplicate_of,
            story.etag,
            story.last_modified,
            now,
            now,
            now,
        ),
    )
    article_id = int(cur.lastrowid or 0)
    _remember_aliases(db, article_id, story.aliases)
    _add_version(db, article_id, 1, story, now)
    index_article(db.conn, article_id, story.title, story.text, story.language)
    _index_near_duplicates(db, article_id, story)
    return _Written(NEW, article_id, 1, duplicate=duplicate_of is not None)


def _new_version(db: sqlite_utils.Database, existing: dict, story: Story, now: str) -> _Written:
    article_id, version = existing["id"], existing["version"] + 1
    db.execute(
        "UPDATE articles SET title = ?, author = coalesce(?, author), "
        "published = coalesce(published, ?), modified = ?, language = coalesce(?, language), "
        "description = ?, text = ?, content_hash = ?, body_hash = ?, version = ?, etag = ?, "
        "last_modified = ?, last_seen = ?, last_checked = ? WHERE id = ?",
        (
            story.title,
            story.author,
            story.published,
            story.modified,
            story.language,
            story.description,
            story.text,
            story.content_hash,
            story.body_hash,
            version,
            story.etag,
            story.last_modified,
            now,
            now,
            article_id,
        ),
    )
    _add_version(db, article_id, version, story, now)
    language = story.language or existing["language"]
    index_article(db.conn, article_id, story.title, story.text, language)
    return _Written(CHANGED, article_id, version, duplicate=existing["duplicate_of"] is not None)


def _add_version(
    db: sqlite_utils.Database, article_id: int, version: int, story: Story, now: str
) -> None:
    db.execute(
        "INSERT OR REPLACE INTO article_versions "
        "(article_id, version, title, text, content_hash, seen_at) VALUES (?, ?, ?, ?, ?, ?)",
        (article_id, version, story.title, story.text, story.content_hash, now),
    )


def _remember_aliases(db: sqlite_utils.Database, article_id: int, urls: Sequence[str]) -> None:
    for url in urls:
        db.execute(
            "INSERT OR IGNORE INTO article_urls (url, article_id) "
            "SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM articles WHERE url = ?)",
            (url, article_id, url),
        )


def _record_matches(
    db: sqlite_utils.Database, article_id: int, version: int, found: list[Match], now: str
) -> tuple[str, ...]:
    """Keep one row per story and watch the stored version matches."""
    for m in found:
        db.execute(
            "INSERT INTO matches (article_id, watch, snippet, version, matched_at, matched_form) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(article_id, watch) DO UPDATE SET "
            "snippet = excluded.snippet, version = excluded.version, "
            "matched_form = excluded.matched_form",
            (article_id, m.watch, m.snippet, version, now, m.form),
        )
    return tuple(m.watch for m in found)


def _duplicate_of(db: sqlite_utils.Database, story: Story) -> int | None:
    """The first stored story with the same body, or a near-duplicate of it."""
    if story.body_hash:
        row = db.execute(
            "SELECT coalesce(duplicate_of, id) FROM articles WHERE body_hash = ? "
            "ORDER BY id LIMIT 1",
            (story.body_hash,),
        ).fetchone()
        if row is not None:
            return int(row[0])
    return near_duplicates.find(db, story.signature)


def _index_near_duplicates(db: sqlite_utils.Database, article_id: int, story: Story) -> None:
    near_duplicates.add(db, article_id, story.signature)
