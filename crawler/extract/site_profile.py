"""What newsmon learns about a site from its own stories: its boilerplate and its title affix.

A monitor sees many stories of each site, which a one-page extractor never does. A block of
text that recurs on several distinct stories of a site (a disclaimer, a "visit X" line, a
related-posts rail, a newsletter box) is that site's boilerplate, whatever its words; the
prefix or suffix every title of the site carries (" | EQMint", "Caliber.Az - ") is the site's
name. A ``SiteProfile`` keeps, for the site's last ``MAX_STORIES`` stories, the hashes of
their blocks and their ``<title>``; it is small JSON, stored per site in the
``site_profiles`` table (``crawler.db.site_profiles``).

Use: ``profile.clean(blocks, url)`` removes the blocks seen on at least ``min_stories``
other stories (never all of a story's blocks: what is unique to it stays);
``profile.title_affixes()`` gives the affixes to cut from titles;
``profile.observe(url, title, [block_hash(b) for b in blocks])`` records a story (a story
seen again replaces its earlier record, so re-crawls and edits never count twice).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crawler.extract.containers import text_key
from crawler.extract.titles import split_affix

logger = logging.getLogger(__name__)

MAX_STORIES = 60
# A block is the site's when at least this many other stories carry it: one repetition can
# be a quote two stories share, three are a template.
MIN_STORIES = 3
# A title affix is the site's when at least this share of the site's titles (and at least
# MIN_STORIES of them) end (or start) with it.
AFFIX_SHARE = 0.6
_HASH_CHARS = 12
VERSION = 1


def block_hash(text: str) -> str:
    """A short stable hash of a block's words (case, spacing and punctuation ignored)."""
    return hashlib.sha1(text_key(text).encode()).hexdigest()[:_HASH_CHARS]


def story_key(url: str | None) -> str:
    return hashlib.sha1((url or "").encode()).hexdigest()[:_HASH_CHARS]


@dataclass
class StoryRecord:
    """One story as the profile remembers it."""

    key: str
    blocks: list[str]
    title: str = ""


@dataclass
class SiteProfile:
    """A site's learned boilerplate and title affix (see the module docstring)."""

    site: str
    stories: list[StoryRecord] = field(default_factory=list)
    max_stories: int = MAX_STORIES
    min_stories: int = MIN_STORIES
    # Where its story bodies sit, and the LayoutLearner state that goes with it
    # (crawler.extract.layouts): pages between checks, pages since the last check or try,
    # pages that tried to teach a layout since the last one.
    layout: str | None = None
    layout_counts: tuple[int, int, int] = (0, 0, 0)
    _counts: Counter[str] | None = field(default=None, init=False, repr=False, compare=False)

    # --- learning ---------------------------------------------------------------------

    def observe(self, url: str | None, title: str | None, hashes: Iterable[str]) -> None:
        """Record a story's ``<title>`` and the ``block_hash`` of each of its body blocks,
        replacing an earlier record of the same story."""
        key = story_key(url)
        self.stories = [s for s in self.stories if s.key != key]
        self.stories.append(StoryRecord(key, sorted(set(hashes)), title or ""))
        del self.stories[: -self.max_stories]
        self._counts = None

    # --- applying ---------------------------------------------------------------------

    def boilerplate(
        self, blocks: Sequence[str], url: str | None = None, hashes: Sequence[str] | None = None
    ) -> set[int]:
        """Indexes of ``blocks`` seen on at least ``min_stories`` other stories of the site;
        empty when that would be every block. ``hashes``: their ``block_hash``, when known."""
        counts = self._block_counts()
        if not counts:
            return set()
        own = self._record(url)
        found = set()
        for index, text in enumerate(blocks):
            digest = hashes[index] if hashes is not None else block_hash(text)
            seen = counts[digest] - (1 if own is not None and digest in own.blocks else 0)
            if seen >= self.min_stories:
                found.add(index)
        return found if len(found) < len(blocks) else set()

    def clean(
        self, blocks: Sequence[str], url: str | None = None, hashes: Sequence[str] | None = None
    ) -> list[str]:
        """``blocks`` without the site's boilerplate (see ``boilerplate``)."""
        drop = self.boilerplate(blocks, url, hashes)
        if drop:
            logger.debug("%s: %d boilerplate blocks of the site dropped", self.site, len(drop))
        return [text for index, text in enumerate(blocks) if index not in drop]

    def title_affixes(self) -> list[str]:
        """The prefixes and suffixes (separator included) that most of the site's titles
        carry, longest first."""
        titles = [s.title for s in self.stories if s.title]
        if len(titles) < self.min_stories:
            return []
        prefixes: Counter[str] = Counter()
        suffixes: Counter[str] = Counter()
        for title in titles:
            prefix, suffix = split_affix(title)
            prefixes[prefix] += bool(prefix)
            suffixes[suffix] += bool(suffix)
        needed = max(self.min_stories, AFFIX_SHARE * len(titles))
        found = [a for c in (prefixes, suffixes) for a, n in c.items() if a and n >= needed]
        return sorted(found, key=len, reverse=True)

    # --- storage ----------------------------------------------------------------------

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": VERSION,
                "site": self.site,
                "stories": [[s.key, s.title, s.blocks] for s in self.stories],
                "layout": self.layout,
                "layout_counts": list(self.layout_counts),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, site: str, text: str | None) -> SiteProfile:
        """A profile from ``to_json`` output; an empty one for missing or unreadable
        data (a profile is a cache of what the stories say, never worth failing for)."""
        profile = cls(site)
        if not text:
            return profile
        try:
            data: dict[str, Any] = json.loads(text)
            profile.stories = [
                StoryRecord(str(key), [str(b) for b in blocks], str(title))
                for key, title, blocks in data.get("stories", [])
            ]
            layout = data.get("layout")
            profile.layout = layout if isinstance(layout, str) and layout else None
            counts = data.get("layout_counts") or (0, 0, 0)
            interval, since, attempts = (max(int(n), 0) for n in counts)
            profile.layout_counts = (interval, since, attempts)
        except (ValueError, TypeError):
            logger.warning("unreadable site profile of %s: starting afresh", site)
        return profile

    def _block_counts(self) -> Counter[str]:
        if self._counts is None:
            self._counts = Counter(b for story in self.stories for b in story.blocks)
        return self._counts

    def _record(self, url: str | None) -> StoryRecord | None:
        if url is None:
            return None
        key = story_key(url)
        return next((s for s in self.stories if s.key == key), None)


def profile_from_stories(
    site: str, stories: Iterable[tuple[str, str]], max_stories: int = MAX_STORIES
) -> SiteProfile:
    """A profile learned from stored stories, ``(url, text)`` oldest first, their text's
    paragraphs separated by blank lines: how a site's first profile is built from a
    database filled before profiles existed (titles are not learned: the stored title has
    no affix left)."""
    profile = SiteProfile(site, max_stories=max_stories)
    for url, text in stories:
        profile.observe(url, None, [block_hash(p) for p in text.split("\n\n") if p.strip()])
    return profile
