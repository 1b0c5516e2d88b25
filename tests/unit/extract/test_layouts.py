"""A site's learned layout: bodies read from the element the generic extractor found them in,
only while that gives exactly what the generic extractor gives."""

from __future__ import annotations

import importlib
import random

import pytest

from crawler.extract.article import SiteRules, extract_page
from crawler.extract.html import decode_html, parse_html
from crawler.extract.layouts import LayoutLearner, Plan, compose, describe, find, split
from replica import sites

WORDS = [
    "council",
    "budget",
    "river",
    "harbour",
    "minister",
    "export",
    "lithium",
    "refinery",
    "tariff",
    "senate",
    "vote",
    "court",
    "ruling",
    "province",
    "drought",
    "wheat",
    "harvest",
    "shipping",
    "freight",
    "union",
    "strike",
    "wages",
    "inflation",
    "bank",
    "rates",
    "bond",
    "yields",
    "election",
    "coalition",
    "mayor",
    "transit",
    "bridge",
    "contract",
    "audit",
    "report",
]


def prose(rng: random.Random, sentences: int) -> str:
    return " ".join(
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(9, 16))).capitalize() + "."
        for _ in range(sentences)
    )


def story_page(number: int, theme: str = "classic") -> tuple[str, list[str]]:
    """A story page of one site in a theme, and the paragraphs of its body."""
    rng = random.Random(number)
    title = f"Story {number}: " + " ".join(rng.choice(WORDS) for _ in range(6))
    paragraphs = [prose(rng, rng.randint(2, 4)) for _ in range(rng.randint(4, 8))]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    menu = "".join(f'<li><a href="/c/{w}">{w.title()}</a></li>' for w in WORDS[:12])
    related = "".join(f'<li><a href="/s/{n}">Story {n} of the week</a></li>' for n in range(5))
    if theme == "classic":
        article = (
            f'<article class="post post-{number} type-post"><h1>{title}</h1>'
            f'<div class="entry-content">{body}</div></article>'
        )
    else:  # the same content in a redesign: other tags, classes and wrappers
        article = (
            f'<main><div class="story-wrap"><h1 class="headline">{title}</h1>'
            f'<section class="story__body rich-text" id="story-body">{body}</section></div></main>'
        )
    page = (
        f"<html><head><title>{title} | The Ledger</title></head><body>"
        f"<header><nav><ul>{menu}</ul></nav></header>{article}"
        f'<aside class="rail"><h3>Most read</h3><ul>{related}</ul></aside>'
        "<footer><p>The Ledger, 1 Harbour Street. All rights reserved.</p></footer>"
        "</body></html>"
    )
    return page, paragraphs


def crawl(learner: LayoutLearner, pages: list[tuple[str, list[str]]]) -> list[tuple[str, bool]]:
    """Extract pages as the pipeline does; each page's text and whether the layout gave it."""
    out = []
    for number, (page, _) in enumerate(pages):
        plan = learner.plan()
        found = extract_page(
            page, f"https://ledger.test/s/{number}", None, False, None, *plan_args(plan)
        )
        learner.observe(plan, found.layout_learned, found.layout_used)
        out.append((found.text, found.layout_used))
    return out


def plan_args(plan: Plan) -> tuple[str | None, bool]:
    return plan.layout, plan.learn


def test_bodies_come_from_the_learned_layout_and_equal_the_generic_extraction() -> None:
    pages = [story_page(n) for n in range(30)]
    learner = LayoutLearner()
    results = crawl(learner, pages)
    assert learner.adopted == "article > div.entry-content"
    used = sum(by_layout for _, by_layout in results)
    assert used >= 25  # all but the pages that taught it and the periodic check
    for (text, _), (_, paragraphs) in zip(results, pages, strict=True):
        assert text == "\n\n".join(paragraphs)
    generic = [
        extract_page(p, f"https://ledger.test/s/{n}", None, False).text
        for n, (p, _) in enumerate(pages)
    ]
    assert [text for text, _ in results] == generic


CAPTION = (
    '<div class="wp-caption"><img src="/a.jpg">'
    '<p class="wp-caption-text">The harbour at dawn. Photo: The Ledger</p></div>'
)


def test_paragraphs_the_generic_extractor_leaves_out_are_left_out_by_their_style() -> None:
    # Every third story has a photo caption inside the story element; the generic extractor
    # leaves captions out, so the layout learns to, whichever pages taught it.
    pages = []
    for n in range(30):
        page, paragraphs = story_page(n)
        if n % 3 == 1:
            page = page.replace("</p></div></article>", f"</p>{CAPTION}</div></article>")
        pages.append((page, paragraphs))
    learner = LayoutLearner()
    results = crawl(learner, pages)
    assert learner.adopted == "article > div.entry-content - div.wp-caption > p.wp-caption-text"
    assert sum(by_layout for _, by_layout in results) >= 20
    for (text, _), (_, paragraphs) in zip(results, pages, strict=True):
        assert text == "\n\n".join(paragraphs)
        assert "harbour at dawn" not in text


def test_the_styles_left_out_are_those_of_the_pages_that_taught_the_layout() -> None:
    learner = LayoutLearner(adopt_after=3)
    for learned in ("a > b.x - p > p.caption", "a > b.x", "a > b.x - div.ad > p"):
        learner.observe(learner.plan(), learned)
    assert learner.adopted == "a > b.x - div.ad > p, p > p.caption"
    assert split(learner.adopted) == ("a > b.x", frozenset({"div.ad > p", "p > p.caption"}))
    assert compose(*split(learner.adopted)) == learner.adopted
    # Another element breaks the streak: its styles are not carried over.
    other = LayoutLearner(adopt_after=2)
    for learned in ("a > b.x - p > p.caption", "a > b.y", "a > b.y"):
        other.observe(other.plan(), learned)
    assert other.adopted == "a > b.y"


def test_a_redesign_brings_back_the_generic_extractor_then_teaches_the_new_layout() -> None:
    learner = LayoutLearner()
    crawl(learner, [story_page(n) for n in range(10)])
    assert learner.adopted == "article > div.entry-content"
    redesigned = [story_page(n, theme="redesign") for n in range(10, 25)]
    results = crawl(learner, redesigned)
    assert learner.dropped == ["article > div.entry-content"]
    assert learner.adopted == "div > section#story-body.rich-text.story__body"
    assert not results[0][1]  # the first redesigned page: generic, no layout element
    for (text, _), (_, paragraphs) in zip(results, redesigned, strict=True):
        assert text == "\n\n".join(paragraphs)  # no story lost or cut while relearning


def test_a_template_change_inside_the_element_is_caught_at_the_next_check() -> None:
    learner = LayoutLearner(verify_every=5, max_verify_every=5)
    crawl(learner, [story_page(n) for n in range(8)])
    assert learner.adopted is not None
    # The element stays, but now holds only a teaser; the story moved to another element.
    changed = []
    for n in range(8, 20):
        page, paragraphs = story_page(n)
        teaser = "<p>Subscribers read on in the app.</p>"
        page = page.replace(
            '<div class="entry-content">',
            f'<div class="entry-content">{teaser}</div><div class="full">',
        )
        changed.append((page, paragraphs))
    results = crawl(learner, changed)
    assert "article > div.entry-content" in learner.dropped
    generic = [extract_page(p, f"https://ledger.test/c/{n}", None, False).text for p, _ in changed]
    assert all(changed[n][1][0] in text for n, text in enumerate(generic))
    stale = [n for n, (text, _) in enumerate(results) if text != generic[n]]
    assert len(stale) < 5  # read wrong at most until the check, then right again
    assert all(n < 5 for n in stale)


def test_a_page_with_next_to_nothing_in_the_element_gets_the_generic_extractor() -> None:
    # A gallery story: a caption-length intro in the story element, the rest in a carousel.
    learner = LayoutLearner()
    crawl(learner, [story_page(n) for n in range(8)])
    assert learner.adopted == "article > div.entry-content"
    page, paragraphs = story_page(8)
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    gallery = "".join(f"<p>{p}</p>" for p in paragraphs[1:])
    page = page.replace(
        body, f'<p>{paragraphs[0][:80]}</p></div><div class="gallery-carousel">{gallery}'
    )
    generic = extract_page(page, "https://ledger.test/g/8", None, False).text
    assert len(generic) > 500
    (text, by_layout), *_ = crawl(learner, [(page, paragraphs)])
    assert text == generic and not by_layout
    assert learner.adopted == "article > div.entry-content"  # one odd page drops nothing


def test_a_site_with_a_title_rule_reads_the_same_through_its_layout() -> None:
    # The title selector reads the page after the body, so the body is read from a copy of
    # the element: its widgets must go there as they go in the page.
    rules = SiteRules(title="h1")
    page, _ = story_page(4)
    widget = '<div class="tooltip-card"><p>Harbour desk notes on river freight.</p></div>'
    page = page.replace("</p></div></article>", f"</p>{widget}</div></article>")
    generic = extract_page(page, "https://ledger.test/s/4", rules, False, None, None, True)
    assert generic.layout_learned == "article > div.entry-content"
    assert "Harbour desk" not in generic.text
    fast = extract_page(page, "https://ledger.test/s/4", rules, False, None, generic.layout_learned)
    assert fast.layout_used and fast.text == generic.text


def test_a_stored_layout_is_checked_on_the_runs_first_page() -> None:
    learner = LayoutLearner(known="article > div.entry-content")
    assert learner.plan() == Plan("article > div.entry-content", True)
    assert learner.plan() == Plan("article > div.entry-content", False)


def test_checks_grow_rarer_while_they_pass_and_start_over_with_a_new_layout() -> None:
    learner = LayoutLearner(known="a > b.x", verify_every=2, max_verify_every=8, adopt_after=1)
    checks = []
    for page in range(40):
        plan = learner.plan()
        if plan.learn:
            checks.append(page)
        learner.observe(plan, "a > b.x" if plan.learn else None, used=not plan.learn)
    assert checks == [0, 4, 12, 20, 28, 36]  # the first page, then 4, 8, 8, ... pages apart
    learner.observe(Plan("a > b.x", True), "a > b.y")  # a check that fails
    assert learner.adopted is None and learner.dropped == ["a > b.x"]
    learner.observe(learner.plan(), "a > b.y")
    assert learner.adopted == "a > b.y"
    assert [learner.plan().learn for _ in range(3)] == [False, True, False]


def test_checks_are_counted_across_runs() -> None:
    # A daemon run that fetches one story: the layout's check comes when it is due, not on
    # every run's first page.
    learner = LayoutLearner(known="a > b.x", verify_every=4, max_verify_every=8, adopt_after=1)
    plans = []
    for _run in range(6):
        plan = learner.plan()
        plans.append(plan.learn)
        learner.observe(plan, "a > b.x" if plan.learn else None, used=not plan.learn)
        known, interval, since, attempts = learner.state()
        learner = LayoutLearner(known, interval=interval, since=since, attempts=attempts)
    assert plans == [True, False, False, False, False, False]  # the first check doubles to 8
    assert learner.state() == ("a > b.x", 8, 5, 0)


def test_a_site_without_a_layout_is_tried_again_now_and_then() -> None:
    learner = LayoutLearner(max_attempts=2, retry_every=5)
    tried = []
    for page in range(14):
        plan = learner.plan()
        if plan.learn:
            tried.append(page)
        learner.observe(plan, "" if plan.learn else None)
    assert tried == [0, 1, 6, 11]


def test_a_layout_is_adopted_only_after_pages_agree_in_a_row() -> None:
    learner = LayoutLearner(adopt_after=3)
    for learned in ("a > b.x", "a > b.x", "", "a > b.x", "a > b.y", "a > b.y"):
        learner.observe(learner.plan(), learned)
        assert learner.adopted is None
    learner.observe(learner.plan(), "a > b.y")
    assert learner.adopted == "a > b.y"


def test_while_first_pages_teach_a_layout_later_pages_wait_for_it() -> None:
    learner = LayoutLearner(adopt_after=3, max_attempts=6)
    assert [learner.enter() for _ in range(3)] == [True] * 3
    assert learner.learning(2)  # three pages that may teach it are out: the next waits
    assert not learner.learning(4)  # more workers than that: they are kept busy
    learner.leave()
    assert not learner.learning(2)
    for _ in range(3):
        learner.observe(learner.plan(), "a > b.x")
    assert learner.adopted == "a > b.x"
    assert not learner.enter()  # pages read through the layout are not counted
    learner.leave(), learner.leave()
    # A site whose pages teach nothing stops holding pages once it stops trying.
    hopeless = LayoutLearner(adopt_after=3, max_attempts=2)
    for _ in range(3):
        hopeless.enter()
    assert hopeless.learning(2)
    for _ in range(2):
        hopeless.observe(hopeless.plan(), "")
    assert not hopeless.learning(2)
    # A site whose rules give its bodies: its pages do not try to teach, none waits.
    ruled = LayoutLearner(adopt_after=3)
    for _ in range(3):
        ruled.enter()
    assert ruled.learning(2)
    ruled.observe(ruled.plan(), None)
    assert not ruled.learning(2)


def test_a_site_without_a_layout_stops_paying_for_learning() -> None:
    learner = LayoutLearner(max_attempts=4, retry_every=1000)
    for _ in range(4):
        plan = learner.plan()
        assert plan.learn
        learner.observe(plan, "")
    assert learner.plan() == Plan(None, False)


def test_a_page_planned_before_a_drop_does_not_drop_the_next_layout() -> None:
    learner = LayoutLearner(known="a > b.x", adopt_after=1)
    old = learner.plan()  # a check of the stored layout, in flight
    learner.observe(learner.plan(), "")  # another page says the layout is gone
    assert learner.adopted is None
    learner.observe(learner.plan(), "a > b.y")
    assert learner.adopted == "a > b.y"
    learner.observe(old, "")  # the old check finishes late
    assert learner.adopted == "a > b.y"


def test_a_layout_names_no_single_story_and_needs_one_element() -> None:
    tree = parse_html(
        '<html><body><div class="list"><article class="card post-17" id="p17"><p>a</p></article>'
        '<article class="card post-18" id="p18"><p>b</p></article></div></body></html>'
    )
    card = tree.find(".//article")
    assert describe(card) == "div > article.card"
    assert find(tree, "div > article.card") is None  # a listing: many, so none
    assert find(tree, "div > article.missing") is None
    assert find(tree, "not a layout") is None


@pytest.mark.parametrize(
    "layout",
    [
        "",
        " > ",
        "div > div.entry-content')] | //*[('",
        "div[1] > p",
        "div > div#x'y.z",
        "article > div.entry-content - ",
        "article > div.entry-content - ') or ('",
        "a" * 5000,
        "div\n > div.entry-content",
        "article > div.entry-content\n",
        "article > div.1-2",
    ],
)
def test_a_malformed_or_hostile_stored_layout_finds_nothing_or_what_it_names(layout: str) -> None:
    # A profile is data in the database: hand-edited or damaged, it must not break a crawl.
    page, paragraphs = story_page(1)
    tree = parse_html(page)
    found = find(tree, layout)
    assert found is None or describe(found) == "article > div.entry-content"
    result = extract_page(page, "https://ledger.test/s/1", None, False, None, layout, False)
    assert result.text == "\n\n".join(paragraphs)


def test_a_page_whose_body_the_element_does_not_give_exactly_teaches_nothing() -> None:
    page, paragraphs = story_page(3)
    # Paragraphs as line breaks, no paragraph elements: only the generic extractor reads them.
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    page = page.replace(body, "<br><br>".join(paragraphs))
    found = extract_page(page, "https://ledger.test/s/3", None, False, None, None, True)
    assert all(p in found.text for p in paragraphs)
    assert found.layout_learned == ""
    assert not found.layout_used


# --- every replica site and theme: what a layout reads is what the generic extractor reads ---

REPLICAS = {
    "caliber": ("classic", "redesign"),
    "eqmint": ("classic", "newspaper"),
    "ledger": ("classic",),
    "kestrel": ("classic",),
    "courier": ("classic",),
}
ORIGIN = "http://replica.test"


def replica_story_pages(name: str, theme: str) -> list[tuple[str, str]]:
    """Every story page of a replica site in a theme, oldest first, as (url, html)."""
    site = getattr(sites, name)()
    if theme != "classic":
        site.set_theme(theme)
    story_path = getattr(importlib.import_module(f"replica.{name}_site"), "story_path", None)
    pages = []
    for story in sorted(site.stories, key=lambda s: s.published):
        path = story_path(story) if story_path else f"/{story.slug}/"
        response = site.handle(path, ORIGIN)
        if response.status == 200:
            pages.append((ORIGIN + path, decode_html(response.body)))
    return pages


@pytest.mark.parametrize(
    ("name", "theme"), [(name, theme) for name, themes in REPLICAS.items() for theme in themes]
)
def test_every_replica_theme_teaches_a_layout_that_changes_no_story(name: str, theme: str) -> None:
    learner = LayoutLearner()
    used = 0
    for url, page in replica_story_pages(name, theme):
        plan = learner.plan()
        found = extract_page(page, url, None, False, None, plan.layout, plan.learn)
        learner.observe(plan, found.layout_learned, found.layout_used)
        assert found.text == extract_page(page, url, None, False).text, url
        used += found.layout_used
    assert learner.adopted is not None and used >= 3
