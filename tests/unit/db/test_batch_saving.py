"""A batch of stories saved in one transaction (how a crawl stores them: the watches run once
per batch) must leave exactly the rows, matches and alerts that saving them one by one leaves."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import sqlite_utils

from crawler.db import connect, transaction
from crawler.db.matching import WatchQuery
from crawler.db.stories import SaveContext, Saved, save_stories, save_story
from crawler.dedup.fingerprints import body_hash, content_hash
from crawler.story import Story
from tests.unit.db.test_matching_languages import WATCHES

CTX = SaveContext(
    watches=[*WATCHES, WatchQuery("toyota", "Toyota AND exports"), ("bank", '"central bank"')],
    channels=("email", "slack"),
    routes={"toyota": ("slack",)},
)
FILLER = " ".join(f"Sentence {n} of a long enough story body to be judged." for n in range(8))


def story(slug: str, title: str, text: str, language: str | None = "en") -> Story:
    s = Story(url=f"https://x.test/{slug}", site="x", title=title, text=f"{text} {FILLER}")
    s.language = language
    s.content_hash = content_hash(s.title, s.text)
    s.body_hash = body_hash(s.text)
    return s


def edited(original: Story, text: str) -> Story:
    s = replace(original, text=f"{text} {FILLER}")
    s.content_hash = content_hash(s.title, s.text)
    s.body_hash = body_hash(s.text)
    return s


FIRST = [
    story("a", "Rare earths", "China curbs exports of rare earths to Japan."),
    story("b", "Markets", "The central bank held rates; Toyota exports rose."),
    story("c", "Nothing", "A quiet day at the harbour, and no watch words at all."),
    story("d", "Новости", "Премьер Санаэ Такаити выступила в парламенте.", "ru"),
    story("e", "ニュース", "政府はレアアースの供給網を強化する。", "ja"),
    story("f", "Copy", "China curbs exports of rare earths to Japan."),  # a's body: duplicate
]
SECOND = [
    edited(FIRST[2], "Now the central bank speaks, and Takaichi answers."),  # starts matching
    FIRST[0],  # unchanged
    story("g", "Later", "Takaichi meets Toyota chiefs over exports."),
    edited(FIRST[1], "The central bank held rates again."),  # still matches, now changed
]
SAME_STORY_TWICE = [
    story("h", "Twice", "Takaichi speaks."),
    edited(story("h", "Twice", "Takaichi speaks."), "Takaichi speaks about rare earths."),
]


def stored(db: sqlite_utils.Database) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: list(db.execute(sql).fetchall())
        for table, sql in {
            "articles": "SELECT id, url, version, duplicate_of, content_hash FROM articles",
            "matches": "SELECT article_id, watch, snippet, version, matched_form FROM matches",
            "alerts": "SELECT article_id, version, channel, kind, watches FROM alerts",
        }.items()
    }


def save_all(db: sqlite_utils.Database, batches: list[list[Story]], batched: bool) -> list[Saved]:
    results: list[Saved] = []
    for batch in batches:
        with transaction(db):
            if batched:
                results += save_stories(db, batch, CTX)
            else:
                results += [save_story(db, s, CTX) for s in batch]
    return results


def test_a_batch_stores_what_saving_one_by_one_stores(tmp_path: Path) -> None:
    batches = [FIRST, SECOND, SAME_STORY_TWICE]
    one_by_one, batch = connect(tmp_path / "one.db"), connect(tmp_path / "batch.db")
    expected = save_all(one_by_one, batches, batched=False)
    assert save_all(batch, batches, batched=True) == expected
    assert stored(batch) == stored(one_by_one)
    # What the comparison covers: every outcome, matches in several languages, routed alerts.
    assert {s.outcome for s in expected} == {"new", "duplicate", "unchanged", "changed"}
    rows = stored(batch)
    assert {w for _, w, *_ in rows["matches"]} == {"rare-earths", "takaichi", "toyota", "bank"}
    assert {(kind, channel) for _, _, channel, kind, _ in rows["alerts"]} >= {
        ("new", "email"),
        ("new", "slack"),
        ("changed", "email"),
    }
