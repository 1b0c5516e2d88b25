"""Offline replicas of the seed news sites (Caliber.az, EQMint) served over real HTTP.

Tests and `make demo` crawl these instead of the real sites::

    from replica import ReplicaServer, caliber

    with ReplicaServer(caliber()) as srv:
        print(srv.base_url)  # http://127.0.0.1:PORT/en/
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

# Resolved lazily so `python -m replica.server` does not import the module twice.
_EXPORTS = {
    "Heading": "replica.base",
    "ReplicaSite": "replica.base",
    "Story": "replica.base",
    "is_heading": "replica.base",
    "ReplicaServer": "replica.server",
    "RequestRecord": "replica.server",
    "caliber": "replica.sites",
    "eqmint": "replica.sites",
    "site_by_name": "replica.sites",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'replica' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
