"""Which discovered stories to fetch: new ones, and known ones due for a change check.

The re-check policy, in the order the spider applies it:

1. A story we have never stored is fetched.
2. A known story that a source dates (feed ``updated``, sitemap ``lastmod``, WordPress
   ``modified_gmt``) is fetched again, with a conditional GET, only when that date is at or after
   our last check of it. A dated source is taken at its word.
3. A known story listed only by date-less sources (RSS without ``updated``, HTML listings,
   search pages) is re-checked when the document listing it changed since the last crawl (new
   ETag or body), while the story is still "editable" (first seen within ``recheck_days``).
   These re-checks wait until discovery is done and are dropped for stories a dated source
   vouched for, so a home page that changes with every new story does not cost a request per
   recent story.
4. Whatever the sources say, an editable story is re-checked at least once per the site's
   ``recheck`` interval: a safety net for sites whose dates lie or whose listings never change.

Sources themselves are fetched with conditional GET; a 304 means "nothing new here", so an
unchanged site costs one small request per source and no story page at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from crawler.db.crawl_state import Known
from crawler.timestamps import parse_iso

FETCH, LATER, SKIP = "fetch", "later", "skip"


@dataclass(frozen=True)
class RecheckPolicy:
    """Rules 1-4 of the module docstring, for one run."""

    now: datetime
    editable: timedelta  # config.recheck_days
    every: timedelta  # the site's `recheck` interval

    def decide(self, known: Known | None, hints: dict[str, str], source_changed: bool) -> str:
        """FETCH now, re-check LATER (once discovery is done), or SKIP a discovered story."""
        if known is None:
            return FETCH
        if "modified" in hints and known.last_checked:
            # ">=": stored times are whole seconds, so an edit in the second of our last check
            # must still count as newer.
            return FETCH if parse_iso(hints["modified"]) >= parse_iso(known.last_checked) else SKIP
        return LATER if source_changed and self.editable_now(known) else SKIP

    def editable_now(self, known: Known) -> bool:
        """Whether a story is recent enough that its site may still be editing it."""
        return parse_iso(known.first_seen) > self.now - self.editable

    def overdue(self, known: Known) -> bool:
        """Rule 4: an editable story not checked for a whole ``recheck`` interval."""
        if not known.canonical or not self.editable_now(known):
            return False
        return not known.last_checked or parse_iso(known.last_checked) <= self.now - self.every


def too_old(hints: dict[str, str], max_age: timedelta | None, now: datetime) -> bool:
    """Whether a source dates a story before the ``max_age`` horizon (undated: never)."""
    when = hints.get("published") or hints.get("modified")
    if max_age is None or not when:
        return False
    return parse_iso(when) < now - max_age
