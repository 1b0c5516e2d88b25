"""One crawl in a child process, watched by the daemon.

Each crawl is `python -m crawler ... crawl SITE --no-deliver` in its own process group: Scrapy's
reactor cannot restart in-process, and a crawl that leaks, hangs or crashes must not take the
daemon with it. The child takes the site's lock and records its own run; the daemon only steps
in when the child could not: it kills a child that outlives its time limit plus a grace, and
records a run that was left 'running' or never written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from crawler import storage
from crawler.config import Site
from crawler.locks import SiteBusy, SiteLock

logger = logging.getLogger(__name__)

# What `newsmon crawl` prints when another process holds the site's lock.
BUSY_MARKER = "skipped: another crawl of "


@dataclass(frozen=True)
class Outcome:
    """How one supervised crawl ended: a run status (ok, partial, error) or ``busy``."""

    site: str
    status: str
    detail: str | None = None
    run_id: int | None = None


class CrawlChild:
    """A child process crawling one site; ``start``, then ``wait`` in the same thread.

    ``terminate`` and ``kill`` may be called from another thread (the daemon shutting down).
    """

    def __init__(
        self, config_path: Path, database: Path, site: Site, log_level: str, kill_grace: float
    ) -> None:
        self.config_path = config_path
        self.database = database
        self.site = site
        self.log_level = log_level
        self.kill_grace = kill_grace
        self.proc: subprocess.Popen[bytes] | None = None
        self.busy = False
        self.exited = threading.Event()
        self._reason: str | None = None  # why the daemon ended it, if it did
        self._forwarder: threading.Thread | None = None
        self._before = 0
        self._last_lines: deque[str] = deque(maxlen=3)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def command(self) -> list[str]:
        """The child's command line."""
        return [
            sys.executable,
            "-m",
            "crawler",
            "-c",
            str(self.config_path),
            "--log-level",
            self.log_level,
            "crawl",
            self.site.name,
            "--no-deliver",
        ]

    def start(self) -> None:
        """Start the crawl in a new session, so that it and anything it spawns can be killed
        as a group, and a Ctrl-C at the daemon's terminal reaches only the daemon."""
        self._before = _last_run_id(self.database, self.site.name)
        self.proc = subprocess.Popen(
            self.command(),
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        assert self.proc.stderr is not None
        self._forwarder = threading.Thread(
            target=self._forward,
            args=(self.proc.stderr,),
            name=f"log-{self.site.name}",
            daemon=True,
        )
        self._forwarder.start()
        logger.info("%s: crawl started (pid %s)", self.site.name, self.proc.pid)

    def _forward(self, stream: IO[bytes]) -> None:
        """Pass the child's log lines on to our stderr (journald), noting a busy site."""
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
            if line.startswith(BUSY_MARKER):
                self.busy = True
            if line.strip():
                self._last_lines.append(line.strip())
            sys.stderr.write(line)
            sys.stderr.flush()
        stream.close()

    def wait(self) -> Outcome:
        """Wait for the child, killing it at the hard limit; returns the recorded outcome."""
        assert self.proc is not None
        limit = self.site.time_limit_seconds + self.kill_grace
        try:
            self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            self._reason = (
                f"killed at the time limit ({self.site.time_limit} + {self.kill_grace:g}s "
                "grace): the crawl did not stop by itself"
            )
            logger.error("%s: %s", self.site.name, self._reason)
            self._signal(signal.SIGKILL)
            self.proc.wait()
        if self._forwarder is not None:
            self._forwarder.join(timeout=5)
        self.exited.set()
        return self._settle(self.proc.returncode)

    def terminate(self, reason: str) -> None:
        """Ask the crawl to end now (SIGTERM to its group); ``reason`` is recorded if the run
        is left unfinished. Safe from another thread."""
        self._reason = reason
        self._signal(signal.SIGTERM)

    def kill(self) -> None:
        """End the crawl at once (SIGKILL to its group)."""
        self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return  # reaped: its group id may belong to someone else by now
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)

    def _settle(self, returncode: int) -> Outcome:
        name = self.site.name
        if self.busy:
            return Outcome(name, "busy", "another crawl of the site is running")
        run = _last_run(self.database, name, self._before)
        if run is not None and run[1] != "running":
            return Outcome(name, run[1], run[2], run[0])
        reason = self._reason or _exit_reason(returncode, self._last_lines)
        run_id = record_failure(self.database, name, self._before, reason)
        return Outcome(name, "error", reason, run_id)


def _exit_reason(returncode: int, last_lines: deque[str]) -> str:
    if returncode < 0:
        return f"crawl process killed by signal {signal.Signals(-returncode).name}"
    said = f": {last_lines[-1]}" if last_lines else ""
    return f"crawl process exited with status {returncode} before recording its run{said}"


def record_failure(database: Path, site: str, after_id: int, reason: str) -> int:
    """Record a crawl that ended without recording itself: its run left 'running' (if this
    process can prove nobody else is crawling the site, by taking its lock) becomes an error,
    else a new error run is written. Returns the run id."""
    lock = SiteLock(database, site)
    try:
        lock.acquire()
        owned = True
    except SiteBusy as exc:
        logger.warning("%s: %s (the run of the new holder is left alone)", site, exc)
        owned = False
    with storage.connect(database) as db:
        running = (
            [
                row[0]
                for row in db.execute(
                    "SELECT id FROM runs WHERE site = ? AND id > ? AND status = 'running'",
                    (site, after_id),
                ).fetchall()
            ]
            if owned
            else []
        )
        if not running:
            running = [storage.start_run(db, site)]
        for run_id in running:
            storage.finish_run(db, run_id, "error", error=reason)
        return running[-1]
        lock.release()


def _last_run_id(database: Path, site: str) -> int:
    with storage.connect(database) as db:
        row = db.execute("SELECT max(id) FROM runs WHERE site = ?", (site,)).fetchone()
        return int(row[0] or 0)


def _last_run(database: Path, site: str, after_id: int) -> tuple[int, str, str | None] | None:
    with storage.connect(database) as db:
        row = db.execute(
            "SELECT id, status, error FROM runs WHERE site = ? AND id > ? ORDER BY id DESC",
            (site, after_id),
        ).fetchone()
        return (int(row[0]), str(row[1]), row[2]) if row else None
