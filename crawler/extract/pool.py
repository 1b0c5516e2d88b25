"""A process pool for CPU-bound page work, shared by every crawl of the process.

Extraction costs 5-30 ms of CPU per page; on the reactor's thread that caps a crawl at one
core. ``ExtractPool`` runs such work in worker processes instead and is awaited from the
reactor (Scrapy's asyncio reactor), so fetching, storage and the workers use every core.

- One pool per process, sized to the cores, whatever the number of crawls: the daemon and
  ``newsmon crawl a b c`` run several spiders in one process, and a pool each would
  oversubscribe the CPU and multiply the workers' memory. Spiders ``acquire`` and ``release``
  it; the last release shuts it down.
- Workers are forked from a fork server that has loaded only the extraction modules, never
  from the crawl process: a worker must not inherit the crawl's memory (responses, the
  scheduler's queues, SQLite caches) or its threads. As with any non-fork start method, a
  script that runs a crawl must keep its top level behind ``if __name__ == "__main__"``
  (``python -m crawler``, ``scrapy`` and pytest do).
- At most ``max_pending`` calls are in flight; callers beyond that wait before their page
  is sent. With Scrapy's own cap on responses being processed (SCRAPER_SLOT_MAX_ACTIVE_SIZE),
  the waiting stops the engine from taking new responses, so memory stays flat however long
  the crawl.
- An argument that many calls share (a site's profile, tens of KB) is sent as ``Shared``:
  pickled once by the caller, unpickled once per worker, where later calls find it by its
  digest. Pickling it with every page cost more than the page's own trip.
- A worker that dies (a crash in lxml, the OOM killer) breaks the whole executor. The pool is
  then replaced; each call caught in it is tried once more on the new pool, and a call that
  breaks a pool twice raises ``WorkerCrashed``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import pickle
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What the fork server imports once, so that every worker starts with it loaded.
PRELOAD = ["crawler.extract.orphan_guard", "crawler.extract.article"]
ATTEMPTS = 2


class WorkerCrashed(RuntimeError):
    """A call broke the worker pool on every attempt."""


def default_workers() -> int:
    """One worker per core this process may run on; 0 (work in-process) on a single core,
    where a pool would only add copying."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores and cores > 1 else 0


def _init_worker() -> None:
    from crawler.extract.orphan_guard import die_with_parent

    die_with_parent()
    # Ctrl-C and the daemon's SIGINT are for the crawl process, which shuts the pool down;
    # workers dying on their own would only print tracebacks and break the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# Shared arguments a worker keeps, most recently used last: a daemon's worker serves many
# sites' crawls at once, each with its own.
SHARED_KEPT = 64
_kept: dict[bytes, Any] = {}


class Shared:
    """An argument sent with many calls: pickled once here, its object rebuilt once per worker
    (``shared``) and handed to every later call that carries the same bytes. The object must
    not be changed by the calls (each worker has its own copy) nor after wrapping."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        self.digest = hashlib.blake2b(self.payload, digest_size=16).digest()

    def __reduce__(self) -> tuple[Callable[[bytes, bytes], Any], tuple[bytes, bytes]]:
        return shared, (self.digest, self.payload)


def shared(digest: bytes, payload: bytes) -> Any:
    """The object a ``Shared`` pickled, rebuilt on its first call in this process."""
    if digest in _kept:
        value = _kept.pop(digest)
    else:
        value = pickle.loads(payload)
        while len(_kept) >= SHARED_KEPT:
            del _kept[next(iter(_kept))]
    _kept[digest] = value
    return value


class ExtractPool:
    """A lazily started process pool with a cap on calls in flight; see the module doc."""

    def __init__(self, workers: int, max_pending: int) -> None:
        self.workers = workers
        self.max_pending = max(max_pending, workers)
        self.users = 0
        self.crashes = 0
        self.in_flight = 0  # calls sent to the workers and not yet answered
        self._executor: ProcessPoolExecutor | None = None
        self._slots: asyncio.Semaphore | None = None

    async def run(
        self, fn: Callable[..., T], *args: Any, late: Callable[[], tuple[Any, ...]] | None = None
    ) -> T:
        """``fn(*args)`` in a worker; waits for a free slot first (the backpressure). ``late``
        gives more arguments, asked for once the slot is free: what should depend on the
        results of the calls answered while this one waited."""
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.max_pending)
        async with self._slots:
            self.in_flight += 1
            try:
                return await self._attempts(fn, *args, *(late() if late else ()))
            finally:
                self.in_flight -= 1

    async def _attempts(self, fn: Callable[..., T], *args: Any) -> T:
        for attempt in range(1, ATTEMPTS + 1):
            executor = self._started()
            try:
                return await asyncio.wrap_future(executor.submit(fn, *args))
            except BrokenProcessPool:
                self._replace(executor)
                if attempt == ATTEMPTS:
                    raise WorkerCrashed(f"the worker died {ATTEMPTS} times") from None
        raise AssertionError("unreachable")

    def start(self) -> None:
        """Start every worker now instead of with the first pages: for a long-lived process
        (the daemon's crawl workers) that will extract sooner or later, so its memory is the
        same from the first crawl on and the first new story does not wait for start-up."""
        executor = self._started()
        for _ in range(self.workers):  # each call that finds no idle worker starts one
            executor.submit(int)

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(PRELOAD)
            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_init_worker
            )
        return self._executor

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        # Every call caught in the broken pool lands here; only the first replaces it.
        if self._executor is not broken:
            return
        self.crashes += 1
        logger.error("an extraction worker died; starting a new pool (crash %d)", self.crashes)
        broken.shutdown(wait=False, cancel_futures=True)
        self._executor = None

    def shutdown(self) -> None:
        """Stop the workers (they are idle: the crawls have drained their items)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)


_shared: dict[tuple[int, int], ExtractPool] = {}


def acquire(workers: int, max_pending: int) -> ExtractPool:
    """The process's pool of this size, created on first use; pair with ``release``."""
    pool = _shared.setdefault((workers, max_pending), ExtractPool(workers, max_pending))
    pool.users += 1
    return pool


async def release(pool: ExtractPool) -> None:
    """Give back a pool; the last user shuts it down, off the reactor's thread."""
    pool.users -= 1
    if pool.users > 0:
        return
    _shared.pop((pool.workers, pool.max_pending), None)
    await asyncio.to_thread(pool.shutdown)
