"""A story as it flows from a spider through the pipelines into the database (the crawl's item)."""

from __future__ import annotations

from dataclasses import dataclass, field

# How strongly discovery vouches for a fetched page being a story (``Story.evidence``): a
# story stored before, a URL matching an article_pattern the user configured, a URL that a
# story-only source lists (feed, WordPress API, news sitemap), a URL matching the spider's
# own article pattern; "" for a speculative link (every link of a page), which the page
# itself must declare an article.
KNOWN, TRUSTED, LISTED, PATTERN = "known", "trusted", "listed", "pattern"
STRONG_EVIDENCE = (KNOWN, TRUSTED, LISTED)

# A crawl signal (Scrapy signals are any unique object), sent once a run when discovery finds a
# story new to the database, to be fetched once discovery ends: pages to extract are coming.
NEW_STORY_FOUND = object()


@dataclass(frozen=True)
class Page:
    """A story page as fetched: its bytes, still compressed when ``content_encoding`` says so
    (gzip or deflate, undone up to ``max_size`` bytes, 0 for no cap, by the extraction worker:
    ``crawler.extract.article.extract_page``), and the Content-Type it was served with."""

    body: bytes
    content_type: str | None = None
    content_encoding: str | None = None
    max_size: int = 0

    @classmethod
    def of_text(cls, html: str) -> Page:
        """A page whose text is known (tests, a saved file)."""
        return cls(html.encode("utf-8"), "text/html; charset=utf-8")


@dataclass
class Story:
    """One fetched story page; pipelines fill in the extracted fields and drop the page."""

    url: str
    site: str
    page: Page | None = None
    aliases: list[str] = field(default_factory=list)
    # What discovery (feed, sitemap, search) said about the story, used when the page is silent.
    hints: dict[str, str] = field(default_factory=dict)
    evidence: str = ""  # KNOWN, TRUSTED, LISTED, PATTERN or "" (see above)
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False  # a 304 answer to a change check: nothing to extract
    title: str = ""
    author: str | None = None
    published: str | None = None
    modified: str | None = None
    language: str | None = None
    description: str | None = None
    text: str = ""
    content_hash: str = ""
    body_hash: str = ""
    signature: list[int] = field(default_factory=list)  # MinHash, for near-duplicates
    # Blocks removed as the site's learned boilerplate: a re-check whose only difference
    # from the stored text is these blocks is no edit (the profile learned, the story did not
    # change).
    boilerplate: list[str] = field(default_factory=list)
