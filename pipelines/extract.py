"""The extraction pipeline: a fetched page into story fields, off the reactor's thread.

Every page discovery vouches for is stored, whether or not the site's rules fit it (fields
they miss come from generic extraction, and each fallback is counted for drift detection);
a page is dropped as "not a story" only on positive evidence: it declares itself something
else, or nothing vouches for it and it says nothing, or it has no body.

The extraction itself (``extract_page``, ``SiteRules``) lives in ``crawler.extract.article``,
which loads no Scrapy, so that the pool's worker processes stay small.

Pages go to the process's shared ``ExtractPool`` (``crawler.extract.pool``) as fetched (still
compressed: decompressing and decoding are the workers' too) and come back as small
``Extracted`` results; with ``NEWSMON_EXTRACT_WORKERS = 0`` (the
default on a single core) they are extracted in the crawl's own process.
"""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from scrapy.settings import BaseSettings

from crawler.crawling import run_record as record
from crawler.db import connect, site_profiles
from crawler.extract import pool
from crawler.extract.article import Extracted, SiteRules, extract_page
from crawler.extract.html import PageError
from crawler.extract.layouts import LayoutLearner, Plan
from crawler.extract.site_profile import MAX_STORIES, SiteProfile, profile_from_stories
from crawler.story import NEW_STORY_FOUND, PATTERN, STRONG_EVIDENCE, Story

logger = logging.getLogger(__name__)

# Characters of body a page needs when only the spider's article pattern vouches for it and
# the page declares nothing: less is an "About us" or a contact page, not a story.
MIN_UNDECLARED_TEXT = 400


def not_a_story(found: Extracted, evidence: str, rules_fit: bool = False) -> str | None:
    """Why a fetched page is not a story, or None when it is one.

    A page in the site's story container, or one discovery vouches for strongly
    (``STRONG_EVIDENCE``), is a story if it has a title and a body. A page only the spider's
    URL pattern vouches for needs more: not to lack the story container while the site's rules
    fit its other pages (``rules_fit``: an "About us" page), and to declare itself an article,
    or at least nothing else and have a body of some length.
    """
    if not (found.in_container or evidence in STRONG_EVIDENCE):
        if rules_fit and "container" in found.fallbacks:
            return "no story container, while the site's rules fit its other pages"
        if found.page_type and found.page_type != "article":
            return f"the page declares itself a {found.page_type}, not an article"
        if found.page_type != "article" and evidence != PATTERN:
            return "the page does not say it is an article"
        if found.page_type != "article" and len(found.text) < MIN_UNDECLARED_TEXT:
            return "nothing says it is an article, and it has next to no text"
    if not found.title or not found.text:
        return "no title or body"
    return None


def extract_workers(settings: BaseSettings) -> int:
    """Worker processes for extraction: NEWSMON_EXTRACT_WORKERS, unset (None) meaning one per
    core, 0 meaning in-process."""
    value = settings.get("NEWSMON_EXTRACT_WORKERS")
    if value is None or value == "":
        return pool.default_workers()
    return max(int(value), 0)


class ExtractPipeline:
    """Turns a fetched page into story fields; drops pages that are not stories."""

    def __init__(self, crawler: Crawler, workers: int, pending_per_worker: int) -> None:
        self.crawler = crawler
        self.workers = workers
        self.max_pending = workers * pending_per_worker
        self.pool: pool.ExtractPool | None = None
        self.in_container = 0  # story pages of this run in the site's story container
        # The site's learned boilerplate and title affix, as the run found it: every page of a
        # run is extracted with the same profile, so the result does not depend on the order
        # pages arrive in (the layout learned during the run only changes how fast a body is
        # found, not what it is). What the run's stories teach goes into ``learning``, saved
        # at the end.
        self.profile: SiteProfile | None = None
        self.learning: SiteProfile | None = None
        self.learned = 0  # stories observed this run
        self.profile_loaded = False  # loaded with the run's first page: idle runs skip it
        # Where the site's story bodies sit, once its pages agree (crawler.extract.layouts):
        # bodies are then read from there instead of by the generic extractor.
        self.layouts: LayoutLearner | None = None
        self.shared: tuple[SiteRules | None, pool.Shared, pool.Shared] | None = None
        self.learner_left = asyncio.Event()  # a page that may teach the layout was answered
        self.warn_size = crawler.settings.getint("DOWNLOAD_WARNSIZE") or 2**62

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ExtractPipeline:
        settings = crawler.settings
        return cls(
            crawler, extract_workers(settings), settings.getint("NEWSMON_EXTRACT_PENDING", 8)
        )

    def open_spider(self) -> None:
        self.profile_loaded = False
        self.layouts = None
        self.shared = None
        if not self.workers:
            logger.info("extracting pages in the crawl process")
            return
        # The workers start when discovery finds a new story to fetch (or with the first page
        # of a re-checked one): a run that fetches no story (everything unchanged) costs no
        # processes.
        logger.info("extracting pages in %d worker processes", self.workers)
        self.pool = pool.acquire(self.workers, self.max_pending)
        self.crawler.signals.connect(self._new_story_found, signal=NEW_STORY_FOUND)

    def _new_story_found(self) -> None:
        if self.pool is not None:
            self.pool.start_soon()

    async def close_spider(self) -> None:
        if self.pool is not None:
            await pool.release(self.pool)
            self.pool = None
        layouts = self.layouts
        if layouts is not None and (layouts.used or layouts.dropped):
            logger.info(
                "%d story bodies read through the site's layout %s%s",
                layouts.used,
                layouts.adopted or "(none now)",
                f"; stale layouts dropped: {', '.join(layouts.dropped)}" if layouts.dropped else "",
            )
        if self.learning is not None and self.learned:
            if layouts is not None:
                layout, interval, since, attempts = layouts.state()
                self.learning.layout = layout
                self.learning.layout_counts = (interval, since, attempts)
            self._save_profile(self.learning)

    def _load_site_knowledge(self) -> None:
        """The site's profile and layout, as earlier runs left them (with the run's first
        page: idle runs skip the database)."""
        self.profile_loaded = True
        self.profile = self._load_profile()
        if self.profile is not None:
            self.learning = SiteProfile.from_json(self.profile.site, self.profile.to_json())
        if self.crawler.settings.getbool("NEWSMON_LAYOUTS", True):
            self.layouts = self._layout_learner(self.profile)

    def _load_profile(self) -> SiteProfile | None:
        """The site's profile; the first one is learned from the stories already stored."""
        spider: Any = self.crawler.spider
        site, config = getattr(spider, "site", None), getattr(spider, "config", None)
        if (
            site is None
            or config is None
            or not self.crawler.settings.getbool("NEWSMON_SITE_PROFILE", True)
        ):
            return None
        with connect(config.database) as db:
            stored = site_profiles.load(db, site.name)
            if stored is not None:
                return SiteProfile.from_json(site.name, stored)
            return profile_from_stories(
                site.name, site_profiles.recent_stories(db, site.name, MAX_STORIES)
            )

    @staticmethod
    def _layout_learner(profile: SiteProfile | None) -> LayoutLearner:
        if profile is None:
            return LayoutLearner()
        interval, since, attempts = profile.layout_counts
        return LayoutLearner(profile.layout, interval=interval, since=since, attempts=attempts)

    def _save_profile(self, profile: SiteProfile) -> None:
        spider: Any = self.crawler.spider
        try:
            with connect(spider.config.database) as db:
                site_profiles.save(db, profile.site, profile.to_json())
        except Exception:  # a cache of what the stories say: never worth failing a run for
            logger.warning("could not save the site profile of %s", profile.site, exc_info=True)

    async def process_item(self, item: Story) -> Story:
        if item.not_modified:
            return item
        spider: Any = self.crawler.spider
        found = await self._extract(item, getattr(spider, "rules", None), not item.evidence)
        if not found.title and item.hints.get("title"):
            found.title = html.unescape(item.hints["title"])  # the feed's title for the story
        if found.in_container:
            self.in_container += 1
        reason = not_a_story(found, item.evidence, rules_fit=self.in_container > 0)
        if reason:
            self.crawler.stats.inc_value(record.outcome_key(record.NOT_A_STORY))
            raise DropItem(f"not a story ({reason}): {item.url}", log_level="INFO")
        self._count_rules(found, item.url)
        if self.learning is not None:
            self.learning.observe(item.url, found.raw_title, found.block_hashes)
            self.learned += 1
        item.title, item.text = found.title, found.text
        item.boilerplate = found.boilerplate
        item.author = found.author or item.hints.get("author")
        item.published = found.published or item.hints.get("published")
        item.modified = found.modified
        item.language = found.language or item.hints.get("language")
        item.description = found.description
        if found.canonical:
            item.hints["canonical"] = found.canonical
        if found.fingerprints is not None:
            item.content_hash = found.fingerprints.content_hash
            item.body_hash = found.fingerprints.body_hash
            item.signature = list(found.fingerprints.signature)
        return item

    def _count_rules(self, found: Extracted, url: str) -> None:
        """How well the site's rules fit this story page, for the run's drift check."""
        if not found.rules_matched:
            return
        stats = self.crawler.stats
        stats.inc_value(record.rules_key(found.rules_matched))
        if found.fallbacks:
            stats.inc_value(record.PREFIX + "fallbacks")
            for name in found.fallbacks:
                stats.inc_value(record.fallback_key(name))
            logger.debug("%s: generic extraction for %s", url, ", ".join(found.fallbacks))

    async def _extract(self, item: Story, rules: SiteRules | None, stories_only: bool) -> Extracted:
        # The page is not needed past this point; dropping it keeps memory flat.
        page, item.page = item.page, None
        if page is None:  # a spider that yielded a story without its page: counted, not lost
            self.crawler.stats.inc_value(record.outcome_key(record.EXTRACT_FAILED))
            raise DropItem(f"extraction failed (no page): {item.url}", log_level="ERROR")
        if not self.profile_loaded:
            self._load_site_knowledge()
        plans: list[Plan] = []

        def plan() -> tuple[str | None, bool]:
            # Planned when the page goes to a worker, not when it arrives: dozens of pages can
            # wait for a worker, and a layout learned meanwhile should serve them.
            plans.append(self.layouts.plan() if self.layouts is not None else Plan(None, False))
            return plans[0].layout, plans[0].learn

        entered = False
        try:
            if self.pool is None:
                found = extract_page(page, item.url, rules, stories_only, self.profile, *plan())
            else:
                # While the site's first pages teach its layout, later pages wait for it
                # instead of all going out the slow way (LayoutLearner.learning).
                while self.layouts is not None and self.layouts.learning(self.workers):
                    self.learner_left.clear()
                    await self.learner_left.wait()
                entered = self.layouts is not None and self.layouts.enter()
                # The same rules and profile go with every page of the run: pickled once.
                if self.shared is None or self.shared[0] is not rules:
                    self.shared = (rules, pool.Shared(rules), pool.Shared(self.profile))
                _, sent_rules, sent_profile = self.shared
                args = (page, item.url, sent_rules, stories_only, sent_profile)
                found = await self.pool.run(extract_page, *args, late=plan)
        except PageError as exc:
            # What Scrapy's own decompression would have failed the download for.
            self.crawler.stats.inc_value(record.outcome_key(record.FAILED_FETCH))
            record.note(self.crawler.stats, record.PREFIX + "errors/pages", f"{item.url} ({exc})")
            raise DropItem(f"story page failed ({exc}): {item.url}", log_level="WARNING") from None
        except pool.WorkerCrashed as exc:
            self.crawler.stats.inc_value(record.outcome_key(record.EXTRACT_FAILED))
            raise DropItem(f"extraction failed ({exc}): {item.url}", log_level="ERROR") from None
        finally:
            if entered:
                assert self.layouts is not None
                self.layouts.leave()
                self.learner_left.set()
        if found.page_bytes >= self.warn_size > len(page.body):
            # Scrapy warns of a large download as it arrives; a compressed page is only known
            # to be large once a worker has inflated it.
            logger.warning(
                "%s: %d B once decompressed, over the download warn size (%d B)",
                item.url,
                found.page_bytes,
                self.warn_size,
            )
        if self.layouts is not None:
            self.layouts.observe(plans[0], found.layout_learned, found.layout_used)
            if found.layout_used:
                self.crawler.stats.inc_value(record.PREFIX + "layout_bodies")
        return found
