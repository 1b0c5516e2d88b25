"""Fault injection for the replica server: which request gets which misbehaviour.

A fault is keyed by a path prefix (or an exact path) matched against the request target
including its query string. When several match, the longest prefix wins. `times` limits how
many requests a fault hits before it disappears, e.g. "fail twice, then recover".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

# Allowed keyword arguments per kind; a typo in a test should fail loudly, not silently no-op.
KINDS: dict[str, set[str]] = {
    "status": {"code", "status", "retry_after", "body", "content_type", "headers"},
    "hang": {"seconds"},
    "reset": set(),
    "redirect_loop": {"mode", "code"},
    "slow": {"chunk", "delay"},
    "body": {"body", "content_type", "status"},
}


@dataclass
class Fault:
    """One injected misbehaviour; `params` holds the kind's keyword arguments."""

    prefix: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    exact: bool = False
    remaining: int | None = None

    def matches(self, target: str) -> bool:
        """Whether this fault applies to a request target (path plus query string)."""
        path = urlsplit(target).path
        if self.exact:
            return self.prefix in (target, path)
        return target.startswith(self.prefix) or path.startswith(self.prefix)


class FaultTable:
    """The thread-safe set of active faults of one server."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(
        self, prefix: str, kind: str, *, exact: bool, times: int | None, params: dict[str, Any]
    ) -> Fault:
        """Install a fault, replacing any earlier one on the same key."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(KINDS)}")
        unknown = set(params) - KINDS[kind]
        if unknown:
            raise TypeError(f"fault {kind!r} takes {sorted(KINDS[kind])}, not {sorted(unknown)}")
        fault = Fault(prefix, kind, dict(params), exact, times)
        with self._lock:
            self._faults = [f for f in self._faults if (f.prefix, f.exact) != (prefix, exact)]
            self._faults.append(fault)
        return fault

    def clear(self, prefix: str | None = None) -> None:
        """Remove the faults on one prefix, or all of them."""
        with self._lock:
            self._faults = [f for f in self._faults if prefix not in (None, f.prefix)]

    def take(self, target: str) -> Fault | None:
        """The fault for this request, counting it against the fault's `times`."""
        with self._lock:
            hits = [f for f in self._faults if f.matches(target)]
            if not hits:
                return None
            fault = max(hits, key=lambda f: (f.exact, len(f.prefix)))
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
            return fault
