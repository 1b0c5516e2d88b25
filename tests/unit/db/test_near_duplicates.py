"""Near-duplicates: syndicated copies and light rewrites are stored as duplicates of the first
story and cause no second alert; different stories on the same topic stay separate."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from crawler.db import connect, near_duplicates, transaction
from crawler.db.stories import DUPLICATE, NEW, SaveContext, Saved, save_story
from crawler.dedup import minhash as neardup
from crawler.dedup.fingerprints import body_hash, content_hash
from crawler.story import Story

ORIGINAL = [
    "Azerbaijan and Kazakhstan signed an agreement on Tuesday to expand oil shipments "
    "across the Caspian Sea, a move officials in Baku said would raise transit volumes "
    "through the Baku-Tbilisi-Ceyhan pipeline by almost a third before the end of next year.",
    "The document was signed in Astana by the heads of the two state energy companies, "
    "SOCAR and KazMunayGas, in the presence of Energy Minister Parviz Shahbazov. Under the "
    "deal, Kazakh crude loaded at the port of Aktau will be carried by tanker to the Sangachal "
    "terminal south of Baku and then pumped westward to the Mediterranean coast of Turkey.",
    "Shahbazov told reporters after the ceremony that the two countries had been discussing "
    "the arrangement for more than two years and that the first additional cargoes could "
    "arrive as early as March. He said the pipeline had enough spare capacity to take the "
    "extra barrels without new investment, although the tanker fleet on the Caspian would "
    "need to grow to keep up with demand.",
    "Kazakhstan has been looking for ways to reduce its dependence on the Caspian Pipeline "
    "Consortium route through Russia, which has been disrupted several times by storms, "
    "drone attacks and legal disputes at the Black Sea port of Novorossiysk. Analysts in "
    "Almaty said the new volumes remained small compared with the consortium's total exports "
    "but gave Astana a useful alternative at a time of uncertainty.",
    "The agreement also covers cooperation on digital monitoring of shipments and on the "
    "training of engineers at the Baku Higher Oil School. Officials said a joint working "
    "group would meet every three months to review progress and report to both governments "
    "on tariffs, safety standards and environmental protection in the Caspian basin.",
]
REWRITTEN_LEDE = (
    "Kazakh oil will flow in larger quantities through Azerbaijan under a deal the two "
    "Caspian neighbours concluded this week, with Baku expecting the Baku-Tbilisi-Ceyhan "
    "line to carry close to a third more crude by late next year, officials said."
)
REWRITTEN_FOURTH = (
    "For Kazakhstan the deal is a hedge against trouble on the Caspian Pipeline Consortium "
    "line, its main export artery, which crosses Russia to Novorossiysk and has been halted "
    "more than once by storm damage, drone strikes and court rulings. Almaty-based analysts "
    "called the extra volumes modest next to the consortium's exports, but a welcome second "
    "route for Astana in uncertain times."
)
# Same names, places and subject as ORIGINAL, written independently: news, not a copy.
SAME_TOPIC = [
    "Azerbaijan's state oil company SOCAR reported on Thursday that crude exports through the "
    "Baku-Tbilisi-Ceyhan pipeline fell slightly in the first nine months of the year, as "
    "output from the offshore Azeri-Chirag-Gunashli fields continued its gradual decline.",
    "Energy Minister Parviz Shahbazov said at a conference in Baku that the government was "
    "working with foreign partners, including Kazakhstan and KazMunayGas, to fill the spare "
    "capacity of the pipeline with barrels from other Caspian producers. He did not give "
    "figures but said talks with Astana were at an advanced stage.",
    "The pipeline, which runs from the Sangachal terminal near Baku to the Turkish port of "
    "Ceyhan on the Mediterranean, was built two decades ago to carry Azerbaijani crude to "
    "world markets without crossing Russia. Its owners have long sought new sources of oil "
    "as domestic production falls.",
    "Analysts said Kazakh cargoes shipped by tanker from Aktau across the Caspian Sea could "
    "offset part of the decline, but warned that the tanker fleet was small and that storms "
    "regularly disrupt loadings in winter. The ministry is expected to publish full-year "
    "export figures in February.",
]
FIRST_APPEARED = "This story first appeared on Caliber.az."

CTX = SaveContext(watches=[("caspian", "Caspian")], channels=["email"])


def body(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


ORIGINAL_TEXT = body(*ORIGINAL)
SYNDICATED_TEXT = body(REWRITTEN_LEDE, *ORIGINAL[1:], FIRST_APPEARED)


def story(url: str, title: str, text: str) -> Story:
    """A story as the pipelines hand it to storage."""
    site = url.split("/")[2]
    s = Story(url=url, site=site, title=title, text=text)
    s.content_hash = content_hash(title, text)
    s.body_hash = body_hash(text)
    s.signature = neardup.signature(text)
    return s


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    return connect(tmp_path / "news.db")


def save(db: sqlite_utils.Database, s: Story) -> Saved:
    with transaction(db):
        return save_story(db, s, CTX)


def duplicate_of(db: sqlite_utils.Database, article_id: int) -> int | None:
    return db.execute("SELECT duplicate_of FROM articles WHERE id = ?", (article_id,)).fetchone()[0]


def alerted(db: sqlite_utils.Database) -> list[int]:
    return [r[0] for r in db.execute("SELECT article_id FROM alerts ORDER BY article_id")]


def test_syndicated_copy_with_rewritten_lede_is_a_duplicate(db: sqlite_utils.Database) -> None:
    first = save(db, story("https://caliber.az/en/post/oil-deal", "Oil deal", ORIGINAL_TEXT))
    copy = save(
        db,
        story(
            "https://eqmint.com/kazakh-oil-baku/", "Kazakh oil to flow via Baku", SYNDICATED_TEXT
        ),
    )
    assert first.outcome == NEW
    assert copy.outcome == DUPLICATE
    assert duplicate_of(db, copy.article_id) == first.article_id
    assert alerted(db) == [first.article_id]  # the copy matches the watch but is not news


def test_different_story_on_the_same_topic_is_not_a_duplicate(db: sqlite_utils.Database) -> None:
    first = save(db, story("https://caliber.az/en/post/oil-deal", "Oil deal", ORIGINAL_TEXT))
    other = save(db, story("https://caliber.az/en/post/btc-exports", "BTC", body(*SAME_TOPIC)))
    assert other.outcome == NEW
    assert duplicate_of(db, other.article_id) is None
    assert alerted(db) == [first.article_id, other.article_id]


def test_exact_copy_under_another_title_is_a_duplicate(db: sqlite_utils.Database) -> None:
    first = save(db, story("https://caliber.az/en/post/oil-deal", "Oil deal", ORIGINAL_TEXT))
    copy = story("https://eqmint.com/oil-deal/", "Baku, Astana seal oil deal", ORIGINAL_TEXT)
    with transaction(db):
        assert near_duplicates.find(db, copy.signature) == first.article_id
    saved = save(db, copy)
    assert saved.outcome == DUPLICATE
    assert duplicate_of(db, saved.article_id) == first.article_id
    assert alerted(db) == [first.article_id]


def test_duplicate_of_a_duplicate_points_at_the_original(db: sqlite_utils.Database) -> None:
    original = story("https://caliber.az/en/post/oil-deal", "Oil deal", ORIGINAL_TEXT)
    copy = story("https://eqmint.com/kazakh-oil/", "Kazakh oil", SYNDICATED_TEXT)
    # A copy of the copy, edited again: close to the copy, too far from the original alone.
    edited = (
        ORIGINAL[2]
        .replace("told reporters", "said")
        .replace("more than two years", "over two years")
        .replace("as early as March", "by March")
        .replace("without new investment", "with no new spending")
    )
    text = body(REWRITTEN_LEDE, ORIGINAL[1], edited, REWRITTEN_FOURTH, ORIGINAL[4], FIRST_APPEARED)
    copy_of_copy = story("https://example.net/news/kazakh-oil", "Caspian oil", text)
    assert neardup.similarity(copy_of_copy.signature, original.signature) < neardup.THRESHOLD
    assert neardup.similarity(copy_of_copy.signature, copy.signature) >= neardup.THRESHOLD

    first, second = save(db, original), save(db, copy)
    third = save(db, copy_of_copy)
    assert duplicate_of(db, second.article_id) == first.article_id
    assert third.outcome == DUPLICATE
    assert duplicate_of(db, third.article_id) == first.article_id
    assert alerted(db) == [first.article_id]


def test_measured_similarities_leave_a_margin_around_the_threshold() -> None:
    """The numbers behind THRESHOLD: copies well above it, other stories far below."""
    original = neardup.signature(ORIGINAL_TEXT)
    assert neardup.similarity(original, neardup.signature(SYNDICATED_TEXT)) >= 0.6
    assert neardup.similarity(original, neardup.signature(body(*SAME_TOPIC))) <= 0.05
    # A short story loses more to a rewritten lede: still a copy.
    short = neardup.signature(body(*ORIGINAL[:3]))
    short_copy = neardup.signature(body(REWRITTEN_LEDE, *ORIGINAL[1:3], FIRST_APPEARED))
    assert neardup.similarity(short, short_copy) >= neardup.THRESHOLD


def test_story_without_signature_is_neither_indexed_nor_matched(
    db: sqlite_utils.Database,
) -> None:
    short = Story(url="https://x.test/brief", site="x.test", text="Photo gallery")
    with transaction(db):
        near_duplicates.add(db, 1, short.signature)
        assert near_duplicates.find(db, short.signature) is None
    assert db.execute("SELECT count(*) FROM lsh_bands").fetchone()[0] == 0


def test_removed_story_is_no_longer_found(db: sqlite_utils.Database) -> None:
    first = save(db, story("https://caliber.az/en/post/oil-deal", "Oil deal", ORIGINAL_TEXT))
    with transaction(db):
        near_duplicates.remove(db, first.article_id)
        assert (
            near_duplicates.find(db, story("https://e.test/a", "A", SYNDICATED_TEXT).signature)
            is None
        )
    assert db.execute("SELECT count(*) FROM lsh_bands").fetchone()[0] == 0


def test_signature_is_the_same_in_every_process() -> None:
    """Signatures are stored, so they must not depend on the process (no salted hash())."""
    text = "The quick brown fox jumps over the lazy dog near the river bank."
    here = neardup.signature(text)
    assert len(here) == neardup.NUM_PERM
    # Pinned: changing the hashing silently would make every stored signature useless.
    assert here[:4] == [53971388, 431314001, 623773826, 620119239]
    code = f"from crawler.dedup import minhash; print(minhash.signature({text!r}))"
    for seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.strip() == str(here)


def test_signature_ignores_case_spacing_and_punctuation() -> None:
    assert neardup.signature("Oil deal: SOCAR,  KazMunayGas sign in Astana!") == (
        neardup.signature("oil deal socar kazmunaygas sign in astana")
    )
    assert neardup.signature("") == []


def test_lookup_probes_the_index_instead_of_scanning(db: sqlite_utils.Database) -> None:
    """The cost of a lookup must not grow with the number of stored stories."""
    sig = neardup.signature(ORIGINAL_TEXT)
    params = [p for band, bucket in enumerate(neardup.buckets(sig)) for p in (band, bucket)]
    plan = " | ".join(
        row[3]
        for row in db.execute("EXPLAIN QUERY PLAN " + near_duplicates._CANDIDATES_SQL, params)
    )
    assert "SEARCH l USING PRIMARY KEY (band=? AND bucket=?)" in plan
    assert "SCAN l" not in plan
