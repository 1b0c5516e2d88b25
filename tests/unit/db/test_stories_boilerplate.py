"""A re-check that differs from the stored story only by blocks the site's profile has since
learned to remove is no edit: no new version, no "changed" alert."""

from __future__ import annotations

from pathlib import Path

from crawler.db import connect
from crawler.db.stories import CHANGED, NEW, UNCHANGED
from tests.helpers import RARE, save, story

DISCLAIMER = "Disclaimer: this article is for information only and is not investment advice."


def test_only_learned_boilerplate_removed_is_unchanged_and_a_real_edit_still_counts(
    tmp_path: Path,
) -> None:
    with connect(tmp_path / "newsmon.db") as db:
        first = save(db, story("rare", "Rare earths deal", f"{RARE}\n\n{DISCLAIMER}"), ("email",))
        assert first.outcome == NEW
        again = story("rare", "Rare earths deal", RARE)
        again.boilerplate = [DISCLAIMER]
        assert save(db, again, ("email",)).outcome == UNCHANGED
        row = db.execute("SELECT version, text FROM articles").fetchone()
        assert row == (1, f"{RARE}\n\n{DISCLAIMER}")
        edited = story("rare", "Rare earths deal", RARE + " Prices rose on Monday.")
        edited.boilerplate = [DISCLAIMER]
        assert save(db, edited, ("email",)).outcome == CHANGED
