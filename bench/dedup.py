"""Near-duplicate lookup cost as the store grows (a script, not a test).

Inserts synthetic stories (Zipf-distributed words, 150-600 per body, one in a hundred a
planted near-copy of an earlier one) into a SQLite file through ``near_duplicates.add``, in batched
transactions, keeping a copy of the file at 10k and 100k stories. Then times
``near_duplicates.find`` on 10k, 100k and 1M stored stories, taking turns between the sizes so that
other load on the machine falls on all of them alike, for fresh stories, half of them planted
near-copies (rewritten lede, a few changed words, a "first appeared on" line). The acceptance bar:
lookup time flat within 2x across sizes, each lookup under 5 ms.

Wall-clock percentiles include the time other processes hold the CPU; the CPU-time column and
the machine's CPU pressure (Linux PSI) tell the two apart.

    .venv/bin/python bench/dedup.py             # up to 1,000,000 stories (~10 min, 2 cores)
    .venv/bin/python bench/dedup.py --max 100000
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from multiprocessing import Pool
from multiprocessing.pool import Pool as PoolType
from pathlib import Path

import numpy as np
import numpy.typing as npt
import sqlite_utils

from crawler.db import connect, near_duplicates, transaction
from crawler.dedup import minhash as neardup
from crawler.story import Story

SEED = 20240603
VOCABULARY = 30_000
PLANT_EVERY = 100  # one stored story in a hundred is a near-copy of an earlier one
CHECKPOINTS = (10_000, 100_000, 1_000_000)
# Stories per write transaction. Each story lands on BANDS random index pages, so a commit
# rewrites nearly every page of lsh_bands: big batches keep the build from being all I/O.
BATCH = 100_000
LOOKUPS, WARMUP = 1_000, 300  # warm-up: a crawl process looks up stories all the time
TRAILER = ["this", "story", "first", "appeared", "on"]

Ids = npt.NDArray[np.int64]


def _vocabulary() -> list[str]:
    """Distinct lower-case words, so a body's tokens are exactly its words."""
    rng = np.random.default_rng(SEED)
    words: dict[str, None] = {}
    while len(words) < VOCABULARY:
        n = int(rng.integers(2, 10))
        words["".join(chr(97 + c) for c in rng.integers(0, 26, n))] = None
    return list(words) + TRAILER + [f"site{k}" for k in range(10)]


WORDS = _vocabulary()
HASHES = neardup.word_hashes([w.encode() for w in WORDS])
# Zipf-distributed word ids, drawn by indexing this table: much faster than inverting a CDF.
_ZIPF = np.repeat(
    np.arange(VOCABULARY),
    np.maximum(1, np.round(2**22 / np.arange(1, VOCABULARY + 1) / np.log(VOCABULARY))).astype(int),
)
_TRAILER_IDS = np.arange(VOCABULARY, VOCABULARY + len(TRAILER))


def _words(rng: np.random.Generator, n: int) -> Ids:
    return _ZIPF[rng.integers(0, len(_ZIPF), n)]


def story_words(i: int) -> Ids:
    """Body of synthetic story ``i``: the same in every process."""
    rng = np.random.default_rng(SEED + i)
    return _words(rng, int(rng.integers(150, 600)))


def near_copy(ids: Ids, rng: np.random.Generator) -> Ids:
    """A syndicated rewrite: new lede (10-20% of the body), up to 1.5% of the other words
    changed, a "this story first appeared on siteN" trailer."""
    lede = int(len(ids) * rng.uniform(0.10, 0.20))
    rest = ids[lede:].copy()
    changed = rng.random(len(rest)) < rng.uniform(0.0, 0.015)
    rest[changed] = _words(rng, int(changed.sum()))
    site = np.array([VOCABULARY + len(TRAILER) + int(rng.integers(0, 10))])
    return np.concatenate([_words(rng, lede), rest, _TRAILER_IDS, site])


def planted_original(i: int) -> int | None:
    """The story that stored story ``i`` copies, or None for an original story."""
    if i % PLANT_EVERY != PLANT_EVERY - 1:
        return None
    j = int(np.random.default_rng([SEED, i, 1]).integers(0, i))
    return j - j % PLANT_EVERY  # never itself a copy: its id is the expected answer


def stored_signature(i: int) -> tuple[int, int | None, list[int]]:
    """(story, story it copies, signature), computed from word hashes in bulk."""
    j = planted_original(i)
    ids = story_words(i) if j is None else near_copy(story_words(j), np.random.default_rng(i))
    return i, j, neardup.minhash(HASHES[ids]).tolist()


def signatures(
    start: int, stop: int, pool: PoolType
) -> Iterator[tuple[int, int | None, list[int]]]:
    return pool.imap(stored_signature, range(start, stop), chunksize=500)


def insert(db: sqlite_utils.Database, rows: list[tuple[int, int | None, list[int]]]) -> int:
    """Store a batch the way crawler.db.stories does; returns how many planted copies were found."""
    found = 0
    with transaction(db):
        for i, j, sig in rows:
            story = Story(url=f"https://site{i % 50}.test/story/{i}", site=f"site{i % 50}")
            story.signature = sig
            duplicate_of = near_duplicates.find(db, story.signature) if j is not None else None
            found += j is not None and duplicate_of == j + 1
            db.execute(
                "INSERT INTO articles (id, url, site, title, content_hash, duplicate_of, "
                "first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, '', '')",
                (i + 1, story.url, story.site, f"Story {i}", str(i), duplicate_of),
            )
            near_duplicates.add(db, i + 1, story.signature)
    return found


@dataclass
class Lookups:
    find_ms: list[float]
    find_cpu_ms: list[float]  # CPU time of this thread: the lookup's own work, without the
    # time other processes on a busy machine hold the CPU (wall time counts it)
    signature_ms: list[float]
    recall: float
    false_positives: int
    jaccard: list[float]
    candidates: list[int]


def shingles(ids: Ids) -> set[tuple[int, ...]]:
    k = neardup.SHINGLE
    return {tuple(ids[p : p + k]) for p in range(len(ids) - k + 1)}


def measure(paths: dict[int, Path]) -> dict[int, Lookups]:
    """Time lookups of fresh stories at every size, taking turns so that load from elsewhere
    on the machine falls on all sizes alike; each on a new connection with the settings a
    crawl process uses."""
    dbs = {stored: connect(path) for stored, path in paths.items()}
    rngs = {stored: np.random.default_rng([SEED, stored, 2]) for stored in paths}
    results = {stored: Lookups([], [], [], 0.0, 0, [], []) for stored in paths}
    hits = dict.fromkeys(paths, 0)
    for n in range(WARMUP + LOOKUPS):
        for stored, db in dbs.items():
            hits[stored] += lookup(db, stored, n, rngs[stored], results[stored])
    for stored, db in dbs.items():
        results[stored].recall = hits[stored] / len(results[stored].jaccard)
        db.close()
    return results


def lookup(
    db: sqlite_utils.Database, stored: int, n: int, rng: np.random.Generator, result: Lookups
) -> bool:
    """One lookup, of a planted near-copy for even ``n``; True if it found its original."""
    planted = n % 2 == 0
    j = int(rng.integers(0, stored // PLANT_EVERY)) * PLANT_EVERY
    ids = near_copy(story_words(j), rng) if planted else story_words(10**9 + stored + n)
    text = " ".join(WORDS[w] for w in ids)
    story = Story(url="https://fresh.test/", site="fresh.test")
    t0 = time.perf_counter()
    story.signature = neardup.signature(text)
    t1, c1 = time.perf_counter(), time.thread_time()
    found = near_duplicates.find(db, story.signature)
    t2, c2 = time.perf_counter(), time.thread_time()
    if n < WARMUP:
        return False
    result.signature_ms.append((t1 - t0) * 1e3)
    result.find_ms.append((t2 - t1) * 1e3)
    result.find_cpu_ms.append((c2 - c1) * 1e3)
    result.candidates.append(spurious_candidates(db, story.signature))
    if not planted:
        result.false_positives += found is not None
        return False
    a, b = shingles(story_words(j)), shingles(ids)
    result.jaccard.append(len(a & b) / len(a | b))
    return found == j + 1


def spurious_candidates(db: sqlite_utils.Database, sig: list[int]) -> int:
    """Stored stories sharing a band bucket with ``sig`` that are no copy of it: each costs a
    lookup a signature comparison (none expected for these synthetic bodies, where unrelated
    stories share no shingles; real text shares a few stock phrases)."""
    ids: set[int] = set()
    for band, bucket in enumerate(neardup.buckets(sig)):
        rows = db.execute(
            "SELECT article_id FROM lsh_bands WHERE band = ? AND bucket = ?", (band, bucket)
        )
        ids.update(row[0] for row in rows)
    spurious = 0
    for article_id in ids:
        blob = db.execute(
            "SELECT signature FROM article_signatures WHERE article_id = ?", (article_id,)
        ).fetchone()[0]
        stored = np.frombuffer(blob, dtype="<u4").tolist()
        spurious += neardup.similarity(sig, stored) < neardup.THRESHOLD
    return spurious


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


COLUMNS = (
    "stored",
    "find median ms",
    "find p99 ms",
    "find max ms",
    "find CPU median / p99 ms",
    "signature median ms",
    "recall",
    "false matches",
    "spurious candidates per lookup",
    "planted J min / median",
    "stored copies linked",
    "file MB",
    "build s",
    "CPU pressure",
)


def report(stored: int, r: Lookups, size_mb: float, linked: str, build_s: float) -> None:
    """One row of the table; CPU pressure is the machine's during the (shared) lookups."""
    cells = (
        f"{stored:,}",
        f"{statistics.median(r.find_ms):.3f}",
        f"{p99(r.find_ms):.3f}",
        f"{max(r.find_ms):.2f}",
        f"{statistics.median(r.find_cpu_ms):.3f} / {p99(r.find_cpu_ms):.3f}",
        f"{statistics.median(r.signature_ms):.2f}",
        f"{r.recall:.1%}",
        f"{r.false_positives}",
        f"{statistics.mean(r.candidates):.2f}",
        f"{min(r.jaccard):.2f} / {statistics.median(r.jaccard):.2f}",
        linked,
        f"{size_mb:,.0f}",
        f"{build_s:.0f}",
        cpu_pressure(),
    )
    print("| " + " | ".join(cells) + " |", flush=True)


def cpu_pressure() -> str:
    """Share of the last 10 s in which some task waited for a CPU (Linux PSI): other work on
    the machine shows in the p99 and max columns."""
    try:
        line = Path("/proc/pressure/cpu").read_text().split()
    except OSError:
        return "n/a"
    return line[1].removeprefix("avg10=") + "%"


def settle(db: sqlite_utils.Database) -> None:
    """Checkpoint the WAL and flush the page cache's dirty pages, so the lookups time the
    index rather than the build's write-back."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=CHECKPOINTS[-1], help="stories to store")
    parser.add_argument("--db", type=Path, help="SQLite file (default: a temporary one)")
    parser.add_argument("--workers", type=int, default=1, help="signature processes")
    args = parser.parse_args()
    checkpoints = [c for c in CHECKPOINTS if c < args.max] + [args.max]
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "bench.db"
        paths = {stored: Path(f"{path}.{stored}") for stored in checkpoints[:-1]}
        paths[checkpoints[-1]] = path
        for p in paths.values():
            for suffix in ("", "-wal", "-shm"):
                Path(f"{p}{suffix}").unlink(missing_ok=True)
        built = build(path, checkpoints, paths, args.workers)
        print("| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS), flush=True)
        for stored, r in measure(paths).items():
            size_mb, linked, build_s = built[stored]
            report(stored, r, size_mb, linked, build_s)


def build(
    path: Path, checkpoints: list[int], paths: dict[int, Path], workers: int
) -> dict[int, tuple[float, str, float]]:
    """Grow the store to each checkpoint, keeping a copy of the file at each smaller one;
    returns (file MB, planted copies linked / planted, seconds so far) per checkpoint."""
    db = connect(path)
    # Building only (lookups open their own connections with the defaults): room for a
    # batch's dirty pages, and no fsync, as a crash only loses a synthetic file.
    db.execute("PRAGMA cache_size = -4000000")
    db.execute("PRAGMA synchronous = OFF")
    built: dict[int, tuple[float, str, float]] = {}
    start, planted, linked, t0 = 0, 0, 0, time.perf_counter()
    with Pool(workers) as pool:
        for stop in checkpoints:
            rows = signatures(start, stop, pool)
            while batch := list(islice(rows, BATCH)):
                linked += insert(db, batch)
                planted += sum(j is not None for _, j, _ in batch)
            start, build_s = stop, time.perf_counter() - t0
            settle(db)
            if paths[stop] != path:
                shutil.copyfile(path, paths[stop])
            built[stop] = (path.stat().st_size / 1e6, f"{linked}/{planted}", build_s)
            print(f"stored {stop:,} in {build_s:.0f} s", flush=True)
    db.close()
    return built


if __name__ == "__main__":
    main()
