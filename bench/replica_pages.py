"""Every story page of the bundled replica sites, with what the replica knows about it.

The replicas (``replica/``) render many stories per site from their own data, so they give
what no one-page benchmark can: several pages of one site (for ``site_profile``) with the
true title, author, publication time and paragraphs of each.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from replica import sites
from replica.base import ReplicaSite

ORIGIN = "http://127.0.0.1:8000"
SITES: dict[str, Callable[[], ReplicaSite]] = {
    "caliber": sites.caliber,
    "eqmint": sites.eqmint,
    "ledger": lambda: sites.ledger(recent=False),
    "kestrel": lambda: sites.kestrel(recent=False),
    "courier": lambda: sites.courier(recent=False),
}


@dataclass(frozen=True)
class ReplicaPage:
    """One rendered story page and the story it shows."""

    site: str
    url: str
    html: bytes
    title: str
    author: str | None
    published: datetime
    body: str


def replica_pages() -> list[ReplicaPage]:
    """Every story of every replica site, oldest first within a site (the order a monitor
    meets them in)."""
    pages = []
    for name, factory in SITES.items():
        site = factory()
        for story in sorted(site.stories, key=lambda s: s.published):
            path = _path(name, site, story)
            response = site.handle(path, ORIGIN)
            if response.status != 200:
                continue
            pages.append(
                ReplicaPage(
                    site=name,
                    url=ORIGIN + path,
                    html=response.body,
                    title=story.title,
                    author=story.author,
                    published=story.published,
                    body="\n\n".join(story.paragraphs),
                )
            )
    return pages


def _path(name: str, site: ReplicaSite, story: object) -> str:
    module = importlib.import_module(f"replica.{name}_site")
    story_path = getattr(module, "story_path", None)
    if story_path is not None:
        return str(story_path(story))
    return f"/{story.slug}/"  # type: ignore[attr-defined]  # EQMint: /<slug>/
