"""Python's cyclic garbage collector set for processes that handle thousands of pages.

With the default thresholds (a collection every 700 new container objects) a crawl of 3,000
story pages ran ~460 young and 3 full collections in its crawl process, 0.38 CPU s in all,
every one holding the GIL over the reactor and the store thread: requests, responses and
Deferreds still in flight are found alive, promoted, and walked again by each older
generation's collection. Collecting every 10,000 new objects lets most of them die first:
22 young collections and no full one, 0.10 CPU s (``bench/crawl.py``, 2026-11-30).
Unreachable cycles wait longer to be freed, and memory is fragmented more: a daemon's crawl
worker grew from 145 to 176-186 MB over 600 crawls (``bench/many_sites.py --sites 300``). So
it is used by extraction workers (whose memory was the same, 158 MB, either way) and by a
one-off crawl, which ends with its work; the daemon's crawl workers keep Python's default.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 10_000  # new container objects between young collections (CPython: 700)


def tune_for_throughput(freeze: bool = False) -> None:
    """Collect less often; ``freeze``: also move every object alive now (the modules a
    worker imported) out of all future collections, for a process about to serve calls."""
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    if freeze:
        gc.freeze()
