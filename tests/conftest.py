"""Shared fixtures: replica sites on real local HTTP servers, and configs pointing at them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from replica.server import ReplicaServer
from replica.sites import caliber, eqmint

REPO = Path(__file__).resolve().parents[1]
WATCHES = [
    {"name": "rare-earths", "query": '"rare earths"'},
    {"name": "takaichi", "query": "Takaichi"},
]


@pytest.fixture
def caliber_server() -> Iterator[ReplicaServer]:
    with ReplicaServer(caliber()) as server:
        yield server


@pytest.fixture
def eqmint_server() -> Iterator[ReplicaServer]:
    with ReplicaServer(eqmint()) as server:
        yield server


def write_config(tmp_path: Path, sites: list[dict], **extra: object) -> Path:
    """A config file in tmp_path with the seed watches, the given sites, and ``extra`` keys."""
    doc = {"database": "newsmon.db", "watches": WATCHES, "sites": sites, **extra}
    path = tmp_path / "newsmon.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def seed_sites(caliber_server: ReplicaServer, eqmint_server: ReplicaServer) -> list[dict]:
    """The shipped config's two sites, pointed at the replica servers."""
    return [
        {"name": "caliber", "spider": "caliber", "url": caliber_server.base_url},
        {"name": "eqmint", "spider": "eqmint", "url": eqmint_server.base_url},
    ]


@pytest.fixture
def seed_config(
    tmp_path: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> Path:
    """The shipped config's sites and watches, pointed at the two replica servers."""
    return write_config(tmp_path, seed_sites(caliber_server, eqmint_server))


def crawl_seed_replicas(folder: Path) -> Path:
    """A config in ``folder`` whose database holds one crawl of both replica sites (for
    module-scoped fixtures of tests that only read the result)."""
    with ReplicaServer(caliber()) as cal, ReplicaServer(eqmint()) as eqm:
        config = write_config(folder, seed_sites(cal, eqm))
        result = run_newsmon(config, "crawl", "--no-deliver")
    assert result.returncode == 0, result.stdout + result.stderr
    return config


def run_newsmon(config: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`newsmon -c CONFIG ARGS...` as a real subprocess (a crawl needs a fresh Twisted reactor)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NEWSMON_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "crawler", "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )
