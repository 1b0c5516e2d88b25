"""numpy's BLAS starts no threads in newsmon's processes (they only spin: newsmon makes no
BLAS call), unless the user asks for them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

THREADS = "import crawler.dedup.minhash, os; print(len(os.listdir('/proc/self/task')))"


def threads_after_import(env: dict[str, str]) -> int:
    done = subprocess.run(
        [sys.executable, "-c", THREADS], env=env, capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="Linux /proc")
def test_importing_minhash_starts_no_blas_threads() -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    assert threads_after_import(env) == 1


@pytest.mark.skipif(
    not os.path.isdir("/proc/self/task") or (os.cpu_count() or 1) < 2, reason="Linux, 2+ cores"
)
def test_a_users_setting_is_kept() -> None:
    assert threads_after_import({**os.environ, "OPENBLAS_NUM_THREADS": "2"}) == 2
