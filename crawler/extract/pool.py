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
- Each worker has a socket of its own, read and written by the event loop itself: a call is
  one length-prefixed pickle each way, and its answer resolves the call's future on the
  loop. ``concurrent.futures.ProcessPoolExecutor``, used before, took two more threads of
  the crawl process, a lock shared by the workers and a hop between threads (and the GIL)
  for every call: the crawl process's CPU per page fell from 3.3 to 2.5 ms without it
  (``bench/crawl.py``). A call goes to the worker with the fewest calls queued; each worker
  answers its calls in order.
- With two workers or more, the last is a *spare* that runs at the lowest priority (nice 19)
  and takes a call only when it has none and every other worker is two calls behind. With a
  worker per core, the workers and the crawl's own threads (the reactor that feeds them,
  the store) are more busy threads than cores; their time-slicing cost CPU (a page took
  ~20% more CPU than alone) and the reactor waited for a core a third of the time. The spare
  works when a core would idle, is preempted when the reactor wakes, and holds at most one
  page: ``bench/crawl.py --spider generic`` 0.46x -> 0.50x bare Scrapy (median of 7 rounds,
  alternating). Nice 19, not SCHED_IDLE (which measured about as well): a machine kept busy
  by other processes still gives it a share, so its page is never stuck.
- At most ``max_pending`` calls are in flight; callers beyond that wait before their page
  is sent. With Scrapy's own cap on responses being processed (SCRAPER_SLOT_MAX_ACTIVE_SIZE),
  the waiting stops the engine from taking new responses, so memory stays flat however long
  the crawl.
- An argument that many calls share (a site's profile, tens of KB) is sent as ``Shared``:
  pickled once by the caller, unpickled once per worker, where later calls find it by its
  digest. Pickling it with every page cost more than the page's own trip.
- A worker that dies (a crash in lxml, the OOM killer) is replaced; each call it held is
  tried once more on the pool, and a call that kills a worker twice raises ``WorkerCrashed``.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import hashlib
import logging
import multiprocessing
import os
import pickle
import signal
import socket
import struct
from collections.abc import Callable
from multiprocessing.context import BaseContext
from typing import Any, TypeVar

from crawler.garbage_collector import tune_for_throughput

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What the fork server imports once, so that every worker starts with it loaded.
PRELOAD = ["crawler.extract.orphan_guard", "crawler.extract.article"]
ATTEMPTS = 2
SPARE_NICE = 19  # the spare worker's niceness: the lowest priority that still gets a share
SPARE_AFTER = 2  # calls every other worker holds before the spare takes one
# How long a stopping worker may take to finish its call before it is killed.
STOP_SECONDS = 10

_HEADER = struct.Struct("!Q")  # the length of the pickle that follows
_READ_SIZE = 1 << 18


class WorkerCrashed(RuntimeError):
    """A call broke the worker pool on every attempt."""


class _WorkerDied(Exception):
    """The worker holding a call exited before answering it."""


def default_workers() -> int:
    """One worker per core this process may run on; 0 (work in-process) on a single core,
    where a pool would only add copying."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return cores if cores and cores > 1 else 0


# Shared arguments a worker keeps, most recently used last: a daemon's worker serves many
# sites' crawls at once, each with its own.
SHARED_KEPT = 64
_kept: dict[bytes, Any] = {}

# The thread that starts the workers also starts multiprocessing's fork server, which is killed
# when that thread ends: it asks Linux for SIGKILL when its parent exits (orphan_guard), and to
# Linux the parent is the thread that forked it. So workers are started on one thread that
# lasts as long as the process, not on an event loop's executor, whose threads end with the
# loop (asyncio.run), taking the fork server and every later pool's start with them.
_starter: concurrent.futures.ThreadPoolExecutor | None = None


def _start_thread() -> concurrent.futures.ThreadPoolExecutor:
    global _starter
    if _starter is None:
        _starter = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="newsmon-pool")
    return _starter


def _forget_start_thread() -> None:
    global _starter
    _starter = None  # a forked child has none of its parent's threads


os.register_at_fork(after_in_child=_forget_start_thread)


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


# --- the worker's side -------------------------------------------------------------------------


def _serve(sock: socket.socket, spare: bool = False) -> None:
    """A worker: answer the calls that come over ``sock``, in order, until it closes; a
    ``spare`` at the lowest priority."""
    from crawler.extract.orphan_guard import die_with_parent

    die_with_parent()
    if spare:
        os.nice(SPARE_NICE)
    # Ctrl-C and the daemon's SIGINT are for the crawl process, which stops the pool; workers
    # dying on their own would only print tracebacks and fail calls.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_for_throughput(freeze=True)
    with sock:
        while (call := _receive(sock)) is not None:
            try:
                fn, args = pickle.loads(call)
                answer = pickle.dumps((True, fn(*args)), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # the caller's to handle, as if raised on its side
                answer = _pickled_error(exc)
            try:
                sock.sendall(_HEADER.pack(len(answer)) + answer)
            except OSError:  # the crawl process is gone or stopped the pool
                return


def _receive(sock: socket.socket) -> bytes | None:
    """One call's pickle, or None when the socket is closed."""
    header = _read_exactly(sock, _HEADER.size)
    return None if header is None else _read_exactly(sock, _HEADER.unpack(header)[0])


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    data = bytearray(size)
    view = memoryview(data)
    read = 0
    while read < size:
        try:
            got = sock.recv_into(view[read:])
        except OSError:
            return None
        if not got:
            return None
        read += got
    return bytes(data)


def _pickled_error(exc: Exception) -> bytes:
    try:
        return pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle still fails its call, legibly
        error = RuntimeError(f"{type(exc).__name__}: {exc}")
        return pickle.dumps((False, error), protocol=pickle.HIGHEST_PROTOCOL)


# --- the crawl process's side ------------------------------------------------------------------


class _Worker:
    """One worker process and its socket, driven by the event loop of the calls."""

    def __init__(self, context: BaseContext, spare: bool = False) -> None:
        ours, theirs = socket.socketpair()
        self.spare = spare
        self.process = context.Process(target=_serve, args=(theirs, spare), daemon=True)  # type: ignore[attr-defined]
        self.process.start()
        theirs.close()
        ours.setblocking(False)
        self.sock = ours
        self.calls: collections.deque[asyncio.Future[Any]] = collections.deque()
        self.inbox = bytearray()
        self.outbox = bytearray()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.dead = False

    def call(self, payload: bytes) -> asyncio.Future[Any]:
        """Send a call; its future resolves when the worker answers, or fails with
        ``_WorkerDied``."""
        loop = asyncio.get_running_loop()
        self._attach(loop)
        future = loop.create_future()
        self.calls.append(future)
        header = _HEADER.pack(len(payload))
        if self.outbox:  # the socket is full; the loop sends it after what waits
            self.outbox += header + payload
            return future
        try:
            sent = self.sock.sendmsg((header, payload))  # no copy of the payload to join them
        except BlockingIOError:
            sent = 0
        except OSError:
            self._died()
            return future
        if sent < len(header) + len(payload):
            self.outbox += header[sent:]
            self.outbox += memoryview(payload)[max(sent - len(header), 0) :]
            loop.add_writer(self.sock, self._writable)
        return future

    def _attach(self, loop: asyncio.AbstractEventLoop) -> None:
        # A pool outlives an event loop in tests and scripts (asyncio.run after asyncio.run).
        if self.loop is not loop:
            self.detach()
            loop.add_reader(self.sock, self._readable)
            self.loop = loop

    def _writable(self) -> None:
        try:
            sent = self.sock.send(self.outbox)
        except BlockingIOError:
            return
        except OSError:
            self._died()
            return
        del self.outbox[:sent]
        if not self.outbox and self.loop is not None:
            self.loop.remove_writer(self.sock)

    def _readable(self) -> None:
        try:
            data = self.sock.recv(_READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._died()
            return
        self.inbox += data
        while len(self.inbox) >= _HEADER.size:
            end = _HEADER.size + _HEADER.unpack_from(self.inbox)[0]
            if len(self.inbox) < end:
                return
            answer = bytes(memoryview(self.inbox)[_HEADER.size : end])
            del self.inbox[:end]
            self._answer(self.calls.popleft(), answer)

    @staticmethod
    def _answer(future: asyncio.Future[Any], answer: bytes) -> None:
        if future.done():  # its caller was cancelled (a crawl stopped at its time limit)
            return
        try:
            ok, value = pickle.loads(answer)
        except Exception as exc:
            future.set_exception(exc)
            return
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)

    def _died(self) -> None:
        self.dead = True
        self.detach()
        self.sock.close()
        while self.calls:
            future = self.calls.popleft()
            if not future.done():
                future.set_exception(_WorkerDied())

    def detach(self) -> None:
        """Stop the event loop watching the socket (call on the loop's thread, or once the
        loop is closed)."""
        loop, self.loop = self.loop, None
        if loop is not None and not loop.is_closed() and self.sock.fileno() >= 0:
            loop.remove_reader(self.sock)
            loop.remove_writer(self.sock)

    def stop(self) -> None:
        """Close the socket, which ends the worker after its current call, and reap it."""
        self.detach()
        self.sock.close()
        self.process.join(STOP_SECONDS)
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()


class ExtractPool:
    """A lazily started process pool with a cap on calls in flight; see the module doc."""

    def __init__(self, workers: int, max_pending: int) -> None:
        self.workers = workers
        self.max_pending = max(max_pending, workers)
        self.users = 0
        self.crashes = 0
        self.in_flight = 0  # calls sent to the workers and not yet answered
        self._workers: list[_Worker] = []
        self._context: BaseContext | None = None
        self._slots: asyncio.Semaphore | None = None
        self._starting: asyncio.Future[list[_Worker]] | None = None

    @property
    def started(self) -> bool:
        return bool(self._workers)

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
                call = (fn, (*args, *(late() if late else ())))
                payload = pickle.dumps(call, protocol=pickle.HIGHEST_PROTOCOL)
                return await self._attempts(payload)  # type: ignore[no-any-return]
            finally:
                self.in_flight -= 1

    async def _attempts(self, payload: bytes) -> Any:
        if not self._workers:
            await self._ready()
        for attempt in range(1, ATTEMPTS + 1):
            worker = self._pick()
            try:
                return await worker.call(payload)
            except _WorkerDied:
                self._replace(worker)
                if attempt == ATTEMPTS:
                    raise WorkerCrashed(f"the worker died {ATTEMPTS} times") from None
        raise AssertionError("unreachable")

    def _pick(self) -> _Worker:
        """The worker with the fewest calls queued, but the spare only when it has none and
        every other worker has SPARE_AFTER."""
        workers = self._alive()
        regular = min((w for w in workers if not w.spare), key=lambda w: len(w.calls))
        if len(regular.calls) >= SPARE_AFTER:
            return next((w for w in workers if w.spare and not w.calls), regular)
        return regular

    def start(self) -> None:
        """Start every worker now instead of with the first pages: for a long-lived process
        (the daemon's crawl workers) that will extract sooner or later, so its memory is the
        same from the first crawl on and the first new story does not wait for start-up."""
        self._started()

    def start_soon(self) -> None:
        """Start the workers in the background now, on the running event loop's executor:
        pages are known to be coming, and their start-up (~0.5 s) then overlaps the fetching
        instead of holding up the first page. No-op when started or starting, or with no
        loop running."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if self._workers or (self._starting is not None and self._starting.get_loop() is loop):
            return
        logger.debug("pages are coming: starting the extraction workers")
        self._starting = starting = loop.run_in_executor(_start_thread(), self._started)
        starting.add_done_callback(self._background_start_ended)

    def _background_start_ended(self, starting: asyncio.Future[list[_Worker]]) -> None:
        error = None if starting.cancelled() else starting.exception()
        if error is not None:  # the first call tries again, and fails on its own if it must
            logger.warning("extraction workers did not start ahead of the pages: %s", error)
            if self._starting is starting:
                self._starting = None

    async def _ready(self) -> None:
        """Start the workers on another thread: the first start waits for the fork server to
        import the extraction modules (~0.5 s), which would stop the reactor meanwhile (it
        goes on fetching instead)."""
        while not self._workers:
            loop = asyncio.get_running_loop()
            if self._starting is None or self._starting.get_loop() is not loop:
                self._starting = loop.run_in_executor(_start_thread(), self._started)
            starting = self._starting
            try:
                await asyncio.shield(starting)  # a caller cancelled meanwhile stops no start
            except Exception:
                if self._starting is starting:
                    self._starting = None  # the next call tries again
                raise

    def _started(self) -> list[_Worker]:
        if not self._workers:
            if self._context is None:
                self._context = multiprocessing.get_context("forkserver")
                self._context.set_forkserver_preload(PRELOAD)  # type: ignore[attr-defined]
            spare = self.workers - 1 if self.workers > 1 else None  # the last, if not alone
            self._workers = [_Worker(self._context, i == spare) for i in range(self.workers)]
        return self._workers

    def _alive(self) -> list[_Worker]:
        """The workers, any that died while idle (the OOM killer) replaced."""
        for worker in self._started():
            if worker.dead:
                self._replace(worker)
        return self._workers

    def _replace(self, dead: _Worker) -> None:
        # Every call the dead worker held lands here; only the first replaces it.
        if dead not in self._workers:
            return
        self.crashes += 1
        logger.error("an extraction worker died; starting another (crash %d)", self.crashes)
        assert self._context is not None
        self._workers[self._workers.index(dead)] = _Worker(self._context, dead.spare)
        # Reaped off the loop's thread: the process is exiting, but nothing says how fast.
        asyncio.get_running_loop().run_in_executor(None, dead.stop)

    def detach(self) -> None:
        """Stop watching the workers from the event loop; call on its thread before
        ``shutdown`` from another."""
        for worker in self._workers:
            worker.detach()

    def shutdown(self) -> None:
        """Stop the workers (they are idle: the crawls have drained their items)."""
        workers, self._workers = self._workers, []
        self._starting = None  # a later call starts new workers
        for worker in workers:
            worker.stop()


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
    pool.detach()
    await asyncio.to_thread(pool.shutdown)
