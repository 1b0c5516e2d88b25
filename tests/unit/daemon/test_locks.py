"""Site locks: one crawl of a site at a time, across processes, freed when the holder dies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from crawler.daemon.locks import SiteBusy, SiteLock


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    db = tmp_path / "newsmon.db"
    with SiteLock(db, "caliber"):
        other = SiteLock(db, "caliber")
        with pytest.raises(SiteBusy, match=r"another crawl of caliber is running \(pid \d+\)"):
            other.acquire()
        # Another site is not affected.
        with SiteLock(db, "eqmint"):
            pass
    with SiteLock(db, "caliber"):  # released on exit
        pass


def test_the_lock_names_the_process_it_was_handed_to(tmp_path: Path) -> None:
    db = tmp_path / "newsmon.db"
    lock = SiteLock(db, "caliber")
    lock.acquire()
    try:
        lock.name_holder(4242)
        with pytest.raises(SiteBusy, match=r"\(pid 4242\)"):
            SiteLock(db, "caliber").acquire()
    finally:
        lock.release()


def test_a_child_that_inherits_the_lock_keeps_it_after_the_parent_lets_go(tmp_path: Path) -> None:
    """The daemon hands a site's lock to its crawl process: while that process lives, the
    site stays locked even if the daemon's own handle is gone."""
    db = tmp_path / "newsmon.db"
    lock = SiteLock(db, "caliber")
    lock.acquire()
    child = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
        pass_fds=(lock.fileno(),),
    )
    try:
        assert lock._file is not None
        lock._file.close()  # the parent's handle closes (as if the daemon died)
        lock._file = None
        with pytest.raises(SiteBusy):
            SiteLock(db, "caliber").acquire()
    finally:
        assert child.stdin is not None
        child.stdin.close()
        child.wait(10)
    with SiteLock(db, "caliber"):  # the kernel freed it with the last holder
        pass


def test_fileno_of_a_lock_not_held_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="not held"):
        SiteLock(tmp_path / "x.db", "caliber").fileno()
