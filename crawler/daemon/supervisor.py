"""The daemon's crawl workers: started, fed, watched, restarted and recycled.

Each worker (``crawler.daemon.worker``) is a process of its own, so a crash, a leak or a hang in
a crawl costs at most that worker, never the daemon. The supervisor

- starts up to ``workers`` of them on demand and gives each crawl to the live worker with the
  fewest crawls, at most ``worker_crawls`` at once per worker (a crawl beyond that waits);
- sends each worker the configuration first, and again after a reload;
- notices a worker that dies (its socket closes): every crawl it was running is reported as
  ended by that death, and the next crawl starts a new worker;
- kills a worker that reports a crawl it cannot stop, or that does not answer by a crawl's
  deadline (the daemon records the affected runs as errors);
- recycles a worker after ``max_crawls`` crawls, or once its process tree's resident memory
  passes ``max_rss``, as a web server does with max-requests: it gets no new crawls, finishes
  those it has, and exits; a fresh one takes over.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.config import Config

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerOptions:
    workers: int = 1  # worker processes
    worker_crawls: int = 32  # crawls one worker runs at once
    max_crawls: int = 1000  # crawls after which a worker is replaced
    max_rss: int = 1024 * 1024 * 1024  # bytes (worker and extraction pool) past which too


@dataclass
class Report:
    """What became of one crawl sent to a worker."""

    cancelled: str | None = None  # the worker cancelled it (time limit, stopping)
    error: str | None = None  # the crawl raised
    died: str | None = None  # the worker process ended while it ran (why)
    stuck: bool = False  # cancelled, and the worker could not make it end


class WorkerProcess:
    """One worker process, its socket and the crawls it runs."""

    def __init__(self, command: list[str], on_exit: Callable[[WorkerProcess], None]) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.proc = subprocess.Popen(
                [*command, "--fd", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),),
                # Its own session: a Ctrl-C at the daemon's terminal reaches only the daemon,
                # and the worker and its extraction pool can be killed as a group.
                start_new_session=True,
            )
        finally:
            theirs.close()
        self.sock = ours
        self.pid = self.proc.pid
        self.crawls: dict[int, Future[Report]] = {}
        self.reports: dict[int, Report] = {}
        self.started_crawls = 0
        self.rss = 0
        self.retiring = False
        self.kill_reason: str | None = None
        self._send_lock = threading.Lock()
        self._on_exit = on_exit
        self._reader = threading.Thread(target=self._read, name=f"worker-{self.pid}", daemon=True)
        self._reader.start()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and self.kill_reason is None

    def send(self, message: dict[str, Any]) -> bool:
        """Send one message; False if the worker is gone."""
        data = json.dumps(message).encode() + b"\n"
        with self._send_lock:
            try:
                self.sock.sendall(data)
            except OSError:
                return False
        return True

    def kill(self, reason: str) -> None:
        """SIGKILL the worker and its extraction pool; its crawls end with ``reason``."""
        if self.kill_reason is None:
            self.kill_reason = reason
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.pid, signal.SIGKILL)

    def join(self, timeout: float) -> bool:
        self._reader.join(timeout)
        return not self._reader.is_alive()

    def _read(self) -> None:
        with self.sock.makefile("rb") as stream:
            for line in stream:
                try:
                    self._handle(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    logger.error("worker %s: unreadable message %r", self.pid, line[:200])
        returncode = self.proc.wait()
        self.sock.close()
        why = self.kill_reason or exit_reason(returncode)
        if self.crawls:
            logger.error(
                "worker %s ended with %d crawl(s) running: %s", self.pid, len(self.crawls), why
            )
        for crawl_id, future in list(self.crawls.items()):
            report = self.reports.pop(crawl_id, Report())
            report.died = why
            future.set_result(report)
        self.crawls.clear()
        self._on_exit(self)

    def _handle(self, message: dict[str, Any]) -> None:
        op = message["op"]
        if op == "ready":
            logger.info("worker %s ready", self.pid)
        elif op == "done":
            self.rss = int(message.get("rss") or 0)
            future = self.crawls.pop(message["id"], None)
            report = self.reports.pop(message["id"], Report())
            report.cancelled, report.error = message.get("cancelled"), message.get("error")
            if future is not None:
                future.set_result(report)
        elif op == "stuck":
            self.reports.setdefault(message["id"], Report()).stuck = True
            self.kill("killed: a crawl it was running could not be stopped")


class Supervisor:
    """The pool of workers; ``crawl`` is called from many threads at once."""

    def __init__(self, config: Config, log_level: str, options: WorkerOptions) -> None:
        self.config = config
        self.log_level = log_level
        self.options = options
        self.workers: list[WorkerProcess] = []
        self._cond = threading.Condition()
        self._next_id = 0
        self._closed = False

    def command(self) -> list[str]:
        path = str(Path(self.config.path or "").resolve())
        level = self.log_level
        return [sys.executable, "-m", "crawler", "-c", path, "--log-level", level, "worker"]

    # --- crawls ---------------------------------------------------------------------------------

    def dispatch(
        self, site: str, hard_limit: float, stopping: threading.Event
    ) -> tuple[WorkerProcess, Future[Report]] | None:
        """Give a crawl of ``site`` to a worker, waiting for a free slot; None if the daemon
        started stopping meanwhile."""
        with self._cond:
            while True:
                if stopping.is_set() or self._closed:
                    return None
                worker = self._free_worker()
                if worker is not None:
                    break
                self._cond.wait(1.0)
            self._next_id += 1
            crawl_id = self._next_id
            future: Future[Report] = Future()
            worker.crawls[crawl_id] = future
            worker.started_crawls += 1
            message = {"op": "crawl", "id": crawl_id, "site": site, "hard_limit": hard_limit}
            if not worker.send(message):
                worker.crawls.pop(crawl_id, None)
                future.set_result(Report(died="the worker could not be reached"))
        future.add_done_callback(lambda _: self._crawl_ended(worker))
        return worker, future

    def _free_worker(self) -> WorkerProcess | None:
        """The live worker with the fewest crawls and a free slot, starting one if allowed."""
        live = [w for w in self.workers if w.alive and not w.retiring]
        free = [w for w in live if len(w.crawls) < self.options.worker_crawls]
        if free:
            return min(free, key=lambda w: len(w.crawls))
        if len(live) < self.options.workers:
            return self._start_worker()
        return None

    def _start_worker(self) -> WorkerProcess:
        # Started from a scheduler job thread: those live as long as the scheduler, which
        # matters because a worker dies with the thread that started it (PR_SET_PDEATHSIG).
        worker = WorkerProcess(self.command(), self._worker_exited)
        self.workers.append(worker)
        logger.info("worker %s started (%d running)", worker.pid, len(self.workers))
        worker.send(self._config_message())
        return worker

    def _crawl_ended(self, worker: WorkerProcess) -> None:
        with self._cond:
            if not worker.retiring and worker.alive:
                why = self._worn_out(worker)
                if why:
                    worker.retiring = True
                    logger.info("worker %s: recycled after %s", worker.pid, why)
            if worker.retiring and not worker.crawls and worker.alive:
                worker.send({"op": "stop"})
            self._cond.notify_all()

    def _worn_out(self, worker: WorkerProcess) -> str | None:
        if worker.started_crawls >= self.options.max_crawls:
            return f"{worker.started_crawls} crawls"
        if worker.rss > self.options.max_rss:
            return f"its memory grew to {worker.rss / 2**20:.0f} MB"
        return None

    def _worker_exited(self, worker: WorkerProcess) -> None:
        with self._cond:
            if worker in self.workers:
                self.workers.remove(worker)
            self._cond.notify_all()
        if not worker.retiring and not self._closed:
            logger.warning(
                "worker %s ended (%s); the next crawl starts a new one",
                worker.pid,
                worker.kill_reason or exit_reason(worker.proc.returncode or 0),
            )

    # --- configuration and shutdown ---------------------------------------------------------------

    def configure(self, config: Config) -> None:
        """A reloaded configuration, for every worker's next crawls."""
        with self._cond:
            self.config = config
            message = self._config_message()
            for worker in self.workers:
                worker.send(message)

    def _config_message(self) -> dict[str, Any]:
        return {
            "op": "config",
            "config": self.config.model_dump(mode="json"),
            "path": str(self.config.path or ""),
        }

    def stop(self) -> None:
        """Ask every worker to cancel its crawls and exit; no new crawl is started."""
        with self._cond:
            self._closed = True
            workers = list(self.workers)
            self._cond.notify_all()
        for worker in workers:
            worker.send({"op": "stop"})

    def kill(self, reason: str) -> None:
        with self._cond:
            workers = list(self.workers)
        for worker in workers:
            worker.kill(reason)

    def join(self, timeout: float) -> bool:
        """Wait for every worker to have exited (and its crawls to be reported)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self.workers, max(0.0, timeout))


def exit_reason(returncode: int) -> str:
    if returncode < 0:
        return f"crawl process killed by signal {signal.Signals(-returncode).name}"
    return f"crawl process exited with status {returncode} before recording its run"
