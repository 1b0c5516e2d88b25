"""A site's story layout: the one element of its story pages that holds the article body.

A site writes every story with one template, so once the generic extractor (trafilatura and
friends, ``crawler.extract.body``) has found the body on a few of its pages, where that body
sits is known: ``article > div.entry-content``. Reading the body straight from that element
costs a fifth of the generic extraction. Nothing is taken on trust:

- a page teaches a layout only when the body read from the layout's element, on a fresh parse
  of the page, is exactly the body the generic extractor found (``learn``);
- a layout is used only after ``ADOPT_AFTER`` pages in a row taught it (``LayoutLearner``);
- while it is used, pages are extracted both ways again: the ``VERIFY_EVERY``-th after
  adoption, then at intervals that double with every check passed up to ``MAX_VERIFY_EVERY``
  pages, counted across runs (the site's profile keeps the count: a daemon run fetching one
  story pays for no check of its own); one disagreement drops the layout;
- a page where the element is missing, or not alone, gets the generic extractor, and so does
  a page where it holds next to nothing (``crawler.extract.article.MIN_LAYOUT_CHARS``: a
  brief, a gallery, a teaser whose story sits elsewhere).

So a story read through the layout is the story the generic extractor would have stored, as
long as the template holds, and the first page after a redesign (or a silent template change,
seen at the next check) brings the generic extractor back. Sites whose bodies never come out
of one element exactly keep the generic extractor: after ``MAX_ATTEMPTS`` pages that taught
nothing, one page in ``RETRY_EVERY`` tries again. On the dev pages (one or two per site), one
element gives the generic body on 50 of 91 aeb-dev pages and 198 of 397 dates-dev pages.

A layout is written ``parent-tag > tag#id.class.class``: the element's tag, its id and its
classes (sorted; those with digits left out, since "post-1234" names one story), and its
parent's tag. When the element also holds paragraphs the generic extractor leaves out
(captions, a "related" line, a slideshow notice), and those are styled unlike every paragraph
it keeps, the layout names their style too, after " - ": ``article > div.entry-content -
figure.wp-caption > figcaption`` (a paragraph-level element and its parent, written as
above); the pages that teach a layout together teach the union of these.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import lxml.html
from lxml import etree

from crawler.extract.containers import BlockIndex, container

ADOPT_AFTER = 3
VERIFY_EVERY = 10
MAX_VERIFY_EVERY = 100
MAX_ATTEMPTS = 12
RETRY_EVERY = 50

_DIGIT = re.compile(r"\d")
_NAME = re.compile(r"[\w-]+")  # used with fullmatch


def describe(element: lxml.html.HtmlElement) -> str:
    """The layout that names ``element``: ``parent-tag > tag#id.class``."""
    parent = element.getparent()
    return f"{parent.tag if parent is not None else ''} > {_step(element)}"


def style(element: lxml.html.HtmlElement) -> str:
    """How a paragraph-level element is written in the template: its parent's step and its
    own (``div.wp-caption > p``)."""
    parent = element.getparent()
    return f"{_step(parent) if parent is not None else ''} > {_step(element)}"


def split(layout: str) -> tuple[str, frozenset[str]]:
    """A layout's element and the styles of the paragraphs in it that are not the body's."""
    box, _, left_out = layout.partition(" - ")
    return box, frozenset(filter(None, left_out.split(", ")))


def compose(box: str, left_out: Iterable[str] = ()) -> str:
    """The layout of element ``box`` without the paragraphs styled ``left_out``."""
    styles = sorted(set(left_out))
    return f"{box} - {', '.join(styles)}" if styles else box


def skipper(layout: str) -> Callable[[lxml.html.HtmlElement], bool] | None:
    """What ``crawler.extract.body.container_blocks`` should leave out for ``layout``."""
    left_out = split(layout)[1]
    if not left_out:
        return None
    return lambda element: style(element) in left_out


def find(tree: lxml.html.HtmlElement, layout: str) -> lxml.html.HtmlElement | None:
    """The one element of the page that ``layout`` names; None when there is none or more
    than one (a listing shows many stories' boxes: no single body there)."""
    box = split(layout)[0]
    candidates = _candidates(box)
    if candidates is None:
        return None
    step = box.partition(" > ")[2]
    found = [element for element in candidates(tree) if _step(element) == step]
    return found[0] if len(found) == 1 else None


@functools.lru_cache(maxsize=256)
def _candidates(box: str) -> etree.XPath | None:
    """An XPath for the elements that may be the one ``box`` names: the right tag under the
    right parent, with its classes (a pre-selection; ``_step`` decides)."""
    parent, _, step = box.partition(" > ")
    tag = re.split(r"[#.]", step, maxsplit=1)[0]
    if not (_NAME.fullmatch(parent) and _NAME.fullmatch(tag)):
        return None
    classes = [name for name in step.split(".")[1:] if "'" not in name]
    tests = "".join(f"[contains(@class, '{name}')]" for name in classes)
    try:
        return etree.XPath(f"//{parent}/{tag}{tests}")
    except etree.XPathSyntaxError:  # a damaged stored layout: nothing to find
        return None


def locate(tree: lxml.html.HtmlElement, blocks: Sequence[str]) -> lxml.html.HtmlElement | None:
    """The smallest element holding the page elements of most of ``blocks`` (the body's
    paragraphs as extracted); None when they are scattered or not found."""
    if not blocks:
        return None
    index = BlockIndex(tree, longest=max(len(text) for text in blocks))
    found = [element for element in map(index.deepest, blocks) if element is not None]
    if len(found) < max(1, len(blocks) // 2):
        return None
    return container(found)


def _step(element: lxml.html.HtmlElement) -> str:
    classes = sorted(
        name for name in (element.get("class") or "").split() if not _DIGIT.search(name)
    )
    ident = (element.get("id") or "").strip()
    ident = f"#{ident}" if _NAME.fullmatch(ident) and not _DIGIT.search(ident) else ""
    return f"{element.tag}{ident}" + "".join(f".{name}" for name in classes)


@dataclass(frozen=True)
class Plan:
    """How the next page of a site is extracted: through ``layout`` (when not None), and
    with the generic extractor too when ``learn`` (the page teaches or checks a layout)."""

    layout: str | None
    learn: bool


class LayoutLearner:
    """Which layout a site's pages are read with, from what its pages taught so far.

    ``plan()`` before a page is extracted, ``observe(plan, learned)`` with what the page
    taught: the layout that reproduced its generic body, "" when none did, None when the page
    was not extracted both ways. Pages may be observed in another order than planned (the
    extraction pool finishes them in any order).
    """

    def __init__(
        self,
        known: str | None = None,
        *,
        interval: int = 0,
        since: int = 0,
        attempts: int = 0,
        adopt_after: int = ADOPT_AFTER,
        verify_every: int = VERIFY_EVERY,
        max_verify_every: int = MAX_VERIFY_EVERY,
        max_attempts: int = MAX_ATTEMPTS,
        retry_every: int = RETRY_EVERY,
    ) -> None:
        """``known``, ``interval``, ``since`` and ``attempts``: the ``state()`` an earlier run
        left (a known layout without its interval is checked on the first page)."""
        self.adopted = known or None
        self.adopt_after = adopt_after
        self.verify_every = verify_every
        self.max_verify_every = max_verify_every
        self.max_attempts = max_attempts
        self.retry_every = retry_every
        # Pages between checks, doubled by every check passed.
        self.interval = interval or verify_every
        # Pages planned since the last check (or, without a layout, the last page that tried
        # to teach one).
        self.planned = since
        self.check_due = self.adopted is not None and not interval
        self.attempts = attempts  # pages that tried to teach a layout since the last one
        # The layouts the last pages taught (one element, maybe other styles left out), none
        # adopted yet.
        self.streak: list[str] = []
        self.used = 0  # pages read through the layout
        self.dropped: list[str] = []  # layouts a check found stale
        self.learners = 0  # pages let through by ``enter`` and not yet ``leave``-d
        # False once a page planned to teach came back without trying: its body came from the
        # site's rules, so this run's pages teach nothing and none should wait for them.
        self.teaching = True

    def state(self) -> tuple[str | None, int, int, int]:
        """What the next run starts from: ``LayoutLearner(*state[:1], interval=...,
        since=..., attempts=...)`` in that order."""
        return self.adopted, self.interval if self.adopted else 0, self.planned, self.attempts

    def plan(self) -> Plan:
        self.planned += 1
        if self.adopted is None:
            # A site whose pages taught nothing in MAX_ATTEMPTS tries is tried again now and
            # then: a redesign may give it a layout.
            if self.attempts < self.max_attempts or self.planned >= self.retry_every:
                self.planned = 0
                return Plan(None, True)
            return Plan(None, False)
        if self.check_due or self.planned >= self.interval:
            self.check_due = False
            self.planned = 0
            return Plan(self.adopted, True)
        return Plan(self.adopted, False)

    def learning(self, limit: int) -> bool:
        """Whether a page should wait before it is planned: no layout yet, pages still try to
        teach one, and ``limit`` pages (at least ``adopt_after``) that may teach it are out.
        A page planned meanwhile would be extracted the slow way for nothing: the first
        pages of a site's first run are all in flight together, before any has answered."""
        return (
            self.teaching
            and self.adopted is None
            and self.attempts < self.max_attempts
            and self.learners >= max(limit, self.adopt_after)
        )

    def enter(self) -> bool:
        """Count a page let through while no layout is adopted (pair with ``leave``)."""
        if self.adopted is not None:
            return False
        self.learners += 1
        return True

    def leave(self) -> None:
        self.learners -= 1

    def observe(self, plan: Plan, learned: str | None, used: bool = False) -> None:
        """Record a page's outcome: ``learned`` as above, ``used`` when its body was read
        through the layout."""
        self.used += used
        if learned is None:
            if plan.learn and plan.layout is None:
                self.teaching = False
            return
        if self.adopted is not None:
            if plan.layout != self.adopted:
                return  # planned before this layout was adopted: says nothing of it
            if learned == self.adopted:
                self.interval = min(2 * self.interval, self.max_verify_every)
            else:
                self.dropped.append(self.adopted)
                self._restart()
            return
        self.attempts += 1
        if not learned:
            self.streak.clear()
            return
        if self.streak and split(self.streak[-1])[0] != split(learned)[0]:
            self.streak.clear()
        self.streak.append(learned)
        if len(self.streak) >= self.adopt_after:
            box = split(learned)[0]
            self.adopted = compose(box, (s for layout in self.streak for s in split(layout)[1]))
            self.planned = self.attempts = 0
            self.interval = self.verify_every
            self.streak.clear()

    def _restart(self) -> None:
        self.adopted = None
        self.attempts = self.planned = 0
        self.streak.clear()
