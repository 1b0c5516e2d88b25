"""The two bundled replica sites and the model they are built from.

`caliber()` and `eqmint()` return fresh, independent sites, so a test may mutate its own copy
(`add_story`, `edit_story`, `remove_story`, `remove_endpoint`) without affecting any other.
"""

from __future__ import annotations

from replica.base import Heading, ReplicaSite, Response, Story, is_heading
from replica.caliber_site import CaliberSite, story_path
from replica.eqmint_site import EqmintSite
from replica.stories import load_stories

__all__ = [
    "CaliberSite",
    "EqmintSite",
    "Heading",
    "ReplicaSite",
    "Response",
    "Story",
    "caliber",
    "eqmint",
    "is_heading",
    "site_by_name",
    "story_path",
]


def caliber() -> CaliberSite:
    """A fresh Caliber.az replica (base path "/en/")."""
    return CaliberSite(load_stories("caliber"))


def eqmint() -> EqmintSite:
    """A fresh EQMint replica (base path "/")."""
    return EqmintSite(load_stories("eqmint"))


def site_by_name(name: str) -> ReplicaSite:
    """A fresh replica by its name ("caliber" or "eqmint"); KeyError for any other."""
    factories = {"caliber": caliber, "eqmint": eqmint}
    return factories[name]()
