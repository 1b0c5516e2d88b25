"""One crawl in a child process, watched by the daemon.

Each crawl is `python -m crawler ... crawl SITE --no-deliver --lock-held` in its own process
group: Scrapy's reactor cannot restart in-process, and a crawl that leaks, hangs or crashes must
not take the daemon with it. The daemon takes the site's lock before starting the child (a
site another process is crawling is ``busy`` at once) and hands it down: the child inherits
the locked file, so the lock lasts while either process lives. The child records its own run;
the daemon only steps in when the child could not: it kills a child that outlives its time
limit plus a grace, and records a run that was left 'running' or never written.
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

from crawler.config import Site
from crawler.daemon.locks import SiteLock
from crawler.db import connect, runs

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """How one supervised crawl ended: its run's status (ok, partial, error) and error."""

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
        self.lock = SiteLock(database, site.name)
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
            "--lock-held",
        ]

    def start(self) -> None:
        """Take the site's lock (SiteBusy if another process is crawling it) and start the
        crawl in a new session, so that it and anything it spawns can be killed as a group, and
        a Ctrl-C at the daemon's terminal reaches only the daemon."""
        self.lock.acquire()
        try:
            with connect(self.database) as db:
                self._before = runs.last_id(db, self.site.name)
            self.proc = subprocess.Popen(
                self.command(),
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                pass_fds=(self.lock.fileno(),),
            )
            self.lock.name_holder(self.proc.pid)
        except BaseException:
            self.lock.release()
            raise
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
        """Pass the child's log lines on to our stderr (journald)."""
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace")
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
        try:
            return self._settle(self.proc.returncode)
        finally:
            self.lock.release()

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
        """The run the child recorded; if it recorded none (or left it running), an error run
        saying why. The lock is still ours, so nobody else's run can be mistaken for it."""
        name = self.site.name
        with connect(self.database) as db:
            run = runs.latest(db, name, self._before)
            if run is not None and run.status != "running":
                return Outcome(name, run.status, run.error, run.id)
            reason = self._reason or _exit_reason(returncode, self._last_lines)
            closed = runs.close_interrupted(db, name, reason, after_id=self._before)
            run_id = closed[-1] if closed else runs.record_error(db, name, reason)
        return Outcome(name, "error", reason, run_id)


def _exit_reason(returncode: int, last_lines: deque[str]) -> str:
    if returncode < 0:
        return f"crawl process killed by signal {signal.Signals(-returncode).name}"
    said = f": {last_lines[-1]}" if last_lines else ""
    return f"crawl process exited with status {returncode} before recording its run{said}"
