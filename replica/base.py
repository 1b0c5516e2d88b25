"""The site model shared by both replicas: stories, responses, routing and test mutators.

A `ReplicaSite` renders every response from its current state on each request, so a test that
edits a story sees the change on the next fetch. Site subclasses declare `routes` (regex on the
URL path, method name) and implement the page templates.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

HTML = "text/html; charset=utf-8"


class Heading(str):
    """A story paragraph that is a subheading (`<h2>`/`<h3>` on EQMint); compares like its text."""

    heading = True
    level: int

    def __new__(cls, text: str, level: int = 2) -> Heading:
        obj = super().__new__(cls, text)
        obj.level = level
        return obj


def is_heading(paragraph: str) -> bool:
    """True when a story paragraph is a subheading rather than body text."""
    return isinstance(paragraph, Heading)


@dataclass
class Story:
    """One article. `modified` defaults to `published`; both must be timezone-aware."""

    slug: str
    title: str
    author: str | None
    published: datetime
    modified: datetime | None = None
    section: str = "World"
    language: str = "en"
    paragraphs: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    comments: list[tuple[str, str]] = field(default_factory=list)
    views: int = 0
    # Slugs for EQMint's "Related Posts" block; empty means "newest posts of the same category".
    related: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.published.tzinfo is None:
            raise ValueError(f"story {self.slug!r}: published must be timezone-aware")
        if self.modified is None:
            self.modified = self.published
        elif self.modified.tzinfo is None:
            raise ValueError(f"story {self.slug!r}: modified must be timezone-aware")

    @property
    def updated(self) -> datetime:
        """`modified`, typed as always present."""
        assert self.modified is not None
        return self.modified

    @property
    def text(self) -> str:
        """Title and paragraphs as one lowercase string, for the sites' own search endpoints."""
        return "\n".join([self.title, *self.paragraphs]).lower()


@dataclass
class Response:
    """What a site answers; the server adds validators, encoding and the wire format."""

    body: bytes
    status: int = 200
    content_type: str = HTML
    headers: dict[str, str] = field(default_factory=dict)
    last_modified: datetime | None = None


@dataclass(frozen=True)
class Request:
    """The parts of a request a site needs to render a page."""

    path: str  # without the query string
    query: dict[str, list[str]]
    origin: str  # "http://127.0.0.1:PORT", used for absolute links

    def param(self, name: str, default: str = "") -> str:
        """The first value of a query parameter."""
        return self.query.get(name, [default])[0]


Route = tuple[re.Pattern[str], str]


def now_utc() -> datetime:
    """The current time, whole seconds (HTTP dates have no finer resolution)."""
    return datetime.now(UTC).replace(microsecond=0)


class ReplicaSite:
    """A replica news site: ordered stories (newest first), routing and mutators for tests."""

    name: ClassVar[str] = ""
    base_path: ClassVar[str] = "/"
    routes: ClassVar[list[Route]] = []
    # HTML themes the site can be served in (the first is the default): the same stories,
    # feeds and metadata in other markup, as a site looks after a redesign.
    themes: ClassVar[tuple[str, ...]] = ("classic",)

    def __init__(self, stories: Sequence[Story]) -> None:
        self._lock = threading.RLock()
        self.stories: list[Story] = sorted(stories, key=lambda s: s.published, reverse=True)
        self._removed: list[tuple[str, bool]] = []
        # The "fixed site-wide time" of listings and feeds: it moves only when content changes.
        self.updated: datetime = max((s.updated for s in self.stories), default=now_utc())
        self.theme = self.themes[0]

    # -- lookups -------------------------------------------------------------------------

    def story(self, slug: str) -> Story:
        """The story with this slug; KeyError if there is none."""
        with self._lock:
            for story in self.stories:
                if story.slug == slug:
                    return story
        raise KeyError(slug)

    def find(self, slug: str) -> Story | None:
        """The story with this slug, or None."""
        try:
            return self.story(slug)
        except KeyError:
            return None

    # -- mutators used by tests ----------------------------------------------------------

    def add_story(self, story: Story) -> Story:
        """Publish a story (kept in newest-first order); the slug must be new."""
        with self._lock:
            if self.find(story.slug) is not None:
                raise ValueError(f"duplicate slug {story.slug!r}")
            self.stories.append(story)
            self.stories.sort(key=lambda s: s.published, reverse=True)
            self._touch(story.updated)
            return story

    def edit_story(
        self,
        slug: str,
        *,
        title: str | None = None,
        paragraphs: Sequence[str] | None = None,
        views: int | None = None,
        **fields: Any,
    ) -> Story:
        """Change a story in place; `modified` moves forward unless only `views` changed.

        A view counter is not an edit on a real CMS, so a views-only change alters the page
        (and its ETag) but keeps `modified` and Last-Modified. Other Story fields may be
        passed as keywords (author, tags, comments, section, related, modified...).
        """
        unknown = set(fields) - {f.name for f in dataclasses.fields(Story)}
        if unknown:
            raise TypeError(f"Story has no field(s) {sorted(unknown)}")
        with self._lock:
            story = self.story(slug)
            changes: dict[str, Any] = dict(fields)
            if title is not None:
                changes["title"] = title
            if paragraphs is not None:
                changes["paragraphs"] = list(paragraphs)
            if views is not None:
                story.views = views
            if changes and "modified" not in changes:
                changes["modified"] = self._next_time(story.updated)
            for key, value in changes.items():
                setattr(story, key, value)
            if changes:
                self._touch(story.updated)
            return story

    def remove_story(self, slug: str) -> Story:
        """Unpublish a story: its page and every listing entry disappear."""
        with self._lock:
            story = self.story(slug)
            self.stories.remove(story)
            self._touch(story.updated)
            return story

    def set_theme(self, theme: str) -> None:
        """Serve every page in another of the site's `themes` from the next request on (a
        redesign: story dates and feeds do not change)."""
        if theme not in self.themes:
            raise ValueError(f"{self.name}: no theme {theme!r} (themes: {', '.join(self.themes)})")
        with self._lock:
            self.theme = theme
            self._themed()

    def _themed(self) -> None:
        """Hook for sites that cache rendered pages."""

    def remove_endpoint(self, path_prefix: str, *, exact: bool = False) -> None:
        """Make every path starting with `path_prefix` (or equal to it) answer 404.

        Matching is on the request path including its query string, so "/?s=" takes down
        only EQMint's HTML search.
        """
        with self._lock:
            self._removed.append((path_prefix, exact))

    def restore_endpoint(self, path_prefix: str | None = None) -> None:
        """Undo `remove_endpoint` for one prefix, or for all when none is given."""
        with self._lock:
            self._removed = [r for r in self._removed if path_prefix not in (None, r[0])]

    # -- serving -------------------------------------------------------------------------

    def handle(self, target: str, origin: str) -> Response:
        """Answer a GET for `target` (path plus query string)."""
        with self._lock:
            if self._is_removed(target):
                return self.not_found()
            parts = urlsplit(target)
            req = Request(parts.path, parse_qs(parts.query), origin)
            for pattern, method in self.routes:
                match = pattern.fullmatch(req.path)
                if match:
                    handler: Callable[..., Response | None] = getattr(self, method)
                    response = handler(req, *match.groups())
                    if response is not None:
                        return response
            return self.fallback(req)

    def fallback(self, req: Request) -> Response:
        """What an unrouted path gets; a 404 page unless a site redirects."""
        return self.not_found()

    def not_found(self) -> Response:
        """The site's 404 page."""
        return Response(b"Not Found", status=404, content_type="text/plain; charset=utf-8")

    # -- helpers for subclasses ------------------------------------------------------------

    def listed(self, language: str | None = None, section: str | None = None) -> list[Story]:
        """Stories newest first, optionally of one language and/or section."""
        return [
            s
            for s in self.stories
            if (language is None or s.language == language)
            and (section is None or slugify(s.section) == section)
        ]

    def _is_removed(self, target: str) -> bool:
        path = urlsplit(target).path
        for prefix, exact in self._removed:
            if exact and prefix in (target, path):
                return True
            if not exact and (target.startswith(prefix) or path.startswith(prefix)):
                return True
        return False

    def _touch(self, when: datetime) -> None:
        self.updated = max(when, self._next_time(self.updated))

    @staticmethod
    def _next_time(previous: datetime) -> datetime:
        # Strictly later than before even within one second, so Last-Modified always moves.
        return max(now_utc().astimezone(previous.tzinfo), previous + timedelta(seconds=1))


def slugify(text: str) -> str:
    """A URL slug for a section or tag name ("General News" -> "general-news")."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def search_terms(words: str) -> list[str]:
    """Lowercase search terms; double-quoted runs stay together as one phrase."""
    return [(phrase or word).lower() for phrase, word in re.findall(r'"([^"]+)"|(\S+)', words)]


def page_of(items: Sequence[Story], page: int, size: int) -> tuple[list[Story], bool]:
    """One page of items (1-based) and whether another page follows."""
    start = (page - 1) * size
    return list(items[start : start + size]), len(items) > start + size


def page_number(raw: str) -> int | None:
    """A positive page number from a URL, or None when it is not one."""
    return int(raw) if raw.isdigit() and int(raw) > 0 else None
