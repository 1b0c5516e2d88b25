"""The two bundled replica sites and the model they are built from.

`caliber()` and `eqmint()` return fresh, independent sites, so a test may mutate its own copy
(`add_story`, `edit_story`, `remove_story`, `remove_endpoint`) without affecting any other.
"""

from __future__ import annotations

from replica.base import Heading, ReplicaSite, Response, Story, is_heading
from replica.caliber_site import CaliberSite, story_path
from replica.courier_site import CourierSite
from replica.eqmint_site import EqmintSite
from replica.kestrel_site import KestrelSite
from replica.ledger_site import LedgerSite
from replica.recent import shift_to_recent
from replica.stories import load_stories

__all__ = [
    "CaliberSite",
    "CourierSite",
    "EqmintSite",
    "Heading",
    "ReplicaSite",
    "Response",
    "KestrelSite",
    "LedgerSite",
    "Story",
    "caliber",
    "courier",
    "eqmint",
    "is_heading",
    "kestrel",
    "ledger",
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


def ledger(recent: bool = True) -> LedgerSite:
    """A fresh Coastal Ledger replica (Atom, Google News sitemap, JSON-LD; no spider knows it).

    With ``recent`` the stories are moved to the last few days (see ``replica.recent``)."""
    stories = load_stories("ledger")
    return LedgerSite(shift_to_recent(stories) if recent else stories)


def kestrel(recent: bool = True) -> KestrelSite:
    """A fresh Kestrel Valley Gazette replica (WordPress without a feed: REST API, wp-sitemap)."""
    stories = load_stories("kestrel")
    return KestrelSite(shift_to_recent(stories) if recent else stories)


def courier(recent: bool = True) -> CourierSite:
    """A fresh Southern Courier replica (listing pages only; stories say og:type=article)."""
    stories = load_stories("courier")
    return CourierSite(shift_to_recent(stories) if recent else stories)
