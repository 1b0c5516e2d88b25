"""Per-site crawl locks shared by the daemon and one-off crawls: one crawl of a site at a time.

An advisory ``flock`` on a file beside the database: the kernel drops it when the holder dies,
so a killed crawl never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO


class SiteBusy(Exception):
    """Another process is crawling this site."""


class SiteLock:
    """Exclusive lock for crawling one site against one database."""

    def __init__(self, database: Path, site: str) -> None:
        self.path = database.with_name(f"{database.name}.{site}.lock")
        self.site = site
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock now or raise SiteBusy naming the holder's pid."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise SiteBusy(f"another crawl of {self.site} is running (pid {holder})") from None
        self._file = handle
        self.name_holder(os.getpid())

    def name_holder(self, pid: int) -> None:
        """Write the pid that others are told holds the lock: a crawl process the holder
        started and handed the lock to names itself, not its parent."""
        if self._file is None:
            raise RuntimeError(f"the lock of {self.site} is not held")
        self._file.seek(0)
        self._file.truncate()
        self._file.write(str(pid))
        self._file.flush()

    def fileno(self) -> int:
        """The locked file's descriptor: a child process that inherits it shares the lock."""
        if self._file is None:
            raise RuntimeError(f"the lock of {self.site} is not held")
        return self._file.fileno()

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None

    def __enter__(self) -> SiteLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
