"""The near-duplicate index in SQLite: MinHash signatures and their LSH band buckets.

``article_signatures`` keeps each story's signature, ``lsh_bands`` one row per (band, bucket)
of it. A lookup probes one primary key per band, then compares the few candidates in full
(the method and its parameters: ``crawler.dedup.minhash``). Every function runs inside the
caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlite_utils

from crawler.dedup.minhash import (
    BANDS,
    NUM_PERM,
    THRESHOLD,
    buckets_of_packed,
    pack,
    similarity_of_packed,
)

# One statement indexes all bands of a story, one finds all its candidates. CROSS JOIN keeps
# the probes as the outer loop: one primary-key search per band, never a scan.
_INDEX_SQL = "INSERT OR IGNORE INTO lsh_bands (band, bucket, article_id) VALUES " + ", ".join(
    ["(?, ?, ?)"] * BANDS
)
_CANDIDATES_SQL = (
    "SELECT DISTINCT l.article_id FROM (VALUES " + ", ".join(["(?, ?)"] * BANDS) + ") AS v "
    "CROSS JOIN lsh_bands AS l ON l.band = v.column1 AND l.bucket = v.column2 "
    "ORDER BY l.article_id"
)


def find(db: sqlite_utils.Database, signature: Sequence[int]) -> int | None:
    """The id of the first stored story this one nearly duplicates, or None.

    Follows ``duplicate_of``, so a copy of a copy points at the original. Runs inside the
    caller's transaction.
    """
    if len(signature) != NUM_PERM:
        return None
    packed = pack(signature)
    candidates = _candidates(db, packed)
    return _first_match(db, candidates, packed) if candidates else None


def _candidates(db: sqlite_utils.Database, packed: bytes) -> list[int]:
    """Stored stories sharing at least one band bucket, oldest first."""
    params = [p for band, bucket in enumerate(buckets_of_packed(packed)) for p in (band, bucket)]
    return [row[0] for row in db.execute(_CANDIDATES_SQL, params)]


def _first_match(db: sqlite_utils.Database, candidates: list[int], packed: bytes) -> int | None:
    """The original of the oldest candidate whose signature is similar enough."""
    chunk = 100  # the oldest candidates usually settle it; no need to read them all
    for start in range(0, len(candidates), chunk):
        ids = candidates[start : start + chunk]
        rows = db.execute(
            "SELECT coalesce(a.duplicate_of, a.id), s.signature FROM article_signatures s "
            f"JOIN articles a ON a.id = s.article_id WHERE s.article_id IN ({_marks(ids)}) "
            "ORDER BY s.article_id",
            ids,
        )
        for original, stored in rows:
            if len(stored) == len(packed) and similarity_of_packed(stored, packed) >= THRESHOLD:
                return int(original)
    return None


def add(db: sqlite_utils.Database, article_id: int, signature: Sequence[int]) -> None:
    """Index a stored story so later near-copies of it are found (no-op without a signature).

    Runs inside the caller's transaction.
    """
    if len(signature) != NUM_PERM:
        return
    packed = pack(signature)
    db.execute(
        "INSERT OR REPLACE INTO article_signatures (article_id, signature) VALUES (?, ?)",
        (article_id, packed),
    )
    rows = [
        p
        for band, bucket in enumerate(buckets_of_packed(packed))
        for p in (band, bucket, article_id)
    ]
    db.execute(_INDEX_SQL, rows)


def remove(db: sqlite_utils.Database, article_id: int) -> None:
    """Drop a story from the index, e.g. before deleting its article row."""
    row = db.execute(
        "SELECT signature FROM article_signatures WHERE article_id = ?", (article_id,)
    ).fetchone()
    if row is None:
        return
    # The bucket keys are recomputed so each row is deleted by primary key, not by a scan.
    for band, bucket in enumerate(buckets_of_packed(row[0])):
        db.execute(
            "DELETE FROM lsh_bands WHERE band = ? AND bucket = ? AND article_id = ?",
            (band, bucket, article_id),
        )
    db.execute("DELETE FROM article_signatures WHERE article_id = ?", (article_id,))


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))
