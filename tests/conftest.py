"""Shared fixtures: replica sites on real local HTTP servers, and configs pointing at them
(the helpers behind them are in ``tests.helpers``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from replica.server import ReplicaServer
from replica.sites import caliber, eqmint
from tests.helpers import seed_sites, write_config


@pytest.fixture
def caliber_server() -> Iterator[ReplicaServer]:
    with ReplicaServer(caliber()) as server:
        yield server


@pytest.fixture
def eqmint_server() -> Iterator[ReplicaServer]:
    with ReplicaServer(eqmint()) as server:
        yield server


@pytest.fixture
def seed_config(
    tmp_path: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> Path:
    """The shipped config's sites and watches, pointed at the two replica servers."""
    return write_config(tmp_path, seed_sites(caliber_server, eqmint_server))
