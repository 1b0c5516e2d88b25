"""MinHash signatures and LSH bands: near-duplicate detection (syndicated copies, light rewrites).

A story body is reduced to its set of 5-word shingles and summarised by a MinHash signature
of ``NUM_PERM`` values: the share of equal values between two signatures estimates the Jaccard
similarity of their shingle sets. To find the stories a new one may copy without reading every
stored signature, the signature is cut into ``BANDS`` bands of ``ROWS`` values; each band is
hashed to a bucket and stored in ``lsh_bands`` (``crawler.db.near_duplicates``). Stories sharing any
bucket are candidates, and only those are compared in full against ``article_signatures``. A lookup
is therefore a fixed number of index probes plus a handful of comparisons, whatever the number of
stored stories.

Parameters, by measurement (``tests/test_neardup.py``, ``replica.bulk``, ``bench/dedup.py``):
a syndicated copy with a rewritten first paragraph, another title and a "first appeared on"
line has a Jaccard similarity of 0.72 (estimated 0.66); the same edits on a 165-word story give
0.57, and the replica's rewrites go down to 0.50. A different story on the same subject, with
the same names and places, scores 0.004, and no two unrelated replica stories exceed 0.08.
``THRESHOLD`` = 0.4 sits between the two with room for the estimate's noise (sd 0.045 at 0.5),
where 0.7-0.8 would miss short copies. With 40 bands of 3 rows a pair at 0.5 becomes a
candidate with probability 0.995 (0.99994 at 0.6), a pair under 0.1 with under 0.04;
candidates are then checked on the full signature.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from crawler.dedup.normalize import ascii_words, normalize

SHINGLE = 5  # words per shingle: long enough that shared stock phrases rarely match
BANDS, ROWS = 40, 3
NUM_PERM = BANDS * ROWS
THRESHOLD = 0.4  # estimated Jaccard similarity from which a story is a near-duplicate

U64 = npt.NDArray[np.uint64]

# The words of a text: runs of word characters (punctuation and spaces separate them).
_WORDS = re.compile(r"\w+")
_MASK32 = np.uint64(0xFFFFFFFF)
_SIGN32 = 0x80000000
_SIGNATURE = struct.Struct(f"<{NUM_PERM}I")
_SHIFT32 = np.uint64(32)
_SLICE = 8192  # shingles hashed at once


def _constants(label: str, count: int) -> U64:
    # Derived from a hash rather than a seeded RNG: stored signatures must stay comparable
    # across processes, machines and numpy versions.
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(f"{label}{i}".encode(), digest_size=8).digest(), "big")
            | 1
            for i in range(count)
        ],
        dtype=np.uint64,
    )


_SHINGLE_MIX = _constants("newsmon-shingle-", SHINGLE)
_PERM_A = _constants("newsmon-minhash-a-", NUM_PERM)
_PERM_B = _constants("newsmon-minhash-b-", NUM_PERM)[:, None]


def word_hashes(words: Sequence[bytes]) -> U64:
    """A stable 32-bit hash (CRC-32) of each word (UTF-8), as the input of :func:`minhash`."""
    return np.fromiter(map(zlib.crc32, words), dtype=np.uint64, count=len(words))


def minhash(hashes: U64) -> npt.NDArray[np.uint32]:
    """The MinHash signature of a body given its word hashes (empty for no words)."""
    if len(hashes) == 0:
        return np.empty(0, dtype=np.uint32)
    shingles = _shingle_hashes(hashes)
    minima = np.full(NUM_PERM, np.iinfo(np.uint64).max, dtype=np.uint64)
    # In slices, so that a huge page cannot take NUM_PERM x 8 bytes per word of memory.
    for start in range(0, len(shingles), _SLICE):
        # Multiply-add-shift on 32-bit keys in 64-bit arithmetic (a 2-independent family)
        # stands in for NUM_PERM random permutations: it vectorizes, and measured unbiased on
        # the bench's planted copies (mean error -0.002, spread as binomial).
        values = np.multiply.outer(_PERM_A, shingles[start : start + _SLICE])
        values += _PERM_B
        np.minimum(minima, values.min(axis=1), out=minima)
    # The shift keeps the order, so it is applied to the NUM_PERM minima, not every value.
    return (minima >> _SHIFT32).astype(np.uint32)


def _shingle_hashes(hashes: U64) -> U64:
    """One 32-bit hash per run of SHINGLE words (one shingle for a shorter body)."""
    n = max(len(hashes) - SHINGLE + 1, 1)
    mixed = np.zeros(n, dtype=np.uint64)
    for j in range(min(SHINGLE, len(hashes))):
        mixed += hashes[j : j + n] * _SHINGLE_MIX[j]  # wraps mod 2**64, as intended
    return (mixed ^ (mixed >> _SHIFT32)) & _MASK32


def signature(text: str) -> list[int]:
    """The MinHash signature of a story body: NUM_PERM ints, the same in every process."""
    return signature_of_normalized(normalize(text))


def signature_of_normalized(body: str) -> list[int]:
    """:func:`signature` of a body already passed through ``fingerprint.normalize``."""
    words = ascii_words(body) if body.isascii() else [w.encode() for w in _WORDS.findall(body)]
    return minhash(word_hashes(words)).tolist()


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the bodies behind two signatures."""
    if len(a) != NUM_PERM or len(b) != NUM_PERM:
        return 0.0
    return similarity_of_packed(pack(a), pack(b))


def similarity_of_packed(a: bytes, b: bytes) -> float:
    return float(np.count_nonzero(np.frombuffer(a, "<u4") == np.frombuffer(b, "<u4"))) / NUM_PERM


def buckets(sig: Sequence[int]) -> list[int]:
    """The LSH bucket of each band of a signature, as signed 32-bit ints (compact in SQLite)."""
    return buckets_of_packed(pack(sig))


def buckets_of_packed(packed: bytes) -> list[int]:
    view, width = memoryview(packed), 4 * ROWS
    return [
        (zlib.crc32(view[start : start + width]) ^ _SIGN32) - _SIGN32
        for start in range(0, len(view), width)
    ]


def pack(sig: Sequence[int]) -> bytes:
    """A signature as stored: NUM_PERM little-endian uint32 (raises on a malformed one)."""
    return _SIGNATURE.pack(*sig)
