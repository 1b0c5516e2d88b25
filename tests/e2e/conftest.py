"""Everything here crawls over HTTP, runs the daemon or other subprocesses: marked ``e2e``, so
`make test-fast` (``-m "not e2e"``) skips it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from replica.server import ReplicaServer
from replica.sites import courier, kestrel, ledger

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, ReplicaServer]]:
    """The three generic replica sites, one set per test module."""
    with (
        ReplicaServer(ledger()) as a,
        ReplicaServer(kestrel()) as b,
        ReplicaServer(courier()) as c,
    ):
        yield {"ledger": a, "kestrel": b, "courier": c}
