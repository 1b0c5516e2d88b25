"""Moving a bundled site's stories into the recent past, for sites crawled with `max_age`.

The generic replica sites (ledger, kestrel, courier) stand for sites nobody wrote a spider for;
their tests crawl them the way a new user would, with `max_age` on. Their bundled dates are
fixed (golden files need them), so the factories shift every story by one offset that puts the
newest one an hour ago, keeping the order and spacing of the originals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from replica.base import Story, now_utc


def shift_to_recent(stories: Sequence[Story], now: datetime | None = None) -> list[Story]:
    """The stories moved so that the newest was published an hour before ``now``."""
    if not stories:
        return []
    newest = max(s.published for s in stories)
    delta = (now or now_utc()) - timedelta(hours=1) - newest
    for story in stories:
        story.published = _shift(story.published, delta)
        story.modified = _shift(story.updated, delta)
    return list(stories)


def _shift(when: datetime, delta: timedelta) -> datetime:
    # Whole seconds, in the story's own zone: HTTP dates and sitemaps carry no fractions.
    return (when + delta).replace(microsecond=0).astimezone(when.tzinfo)
