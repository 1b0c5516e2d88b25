"""Site rules as hints (``crawler.extract.article``): each field the rules miss comes from the
generic path, and the result says which fields fell back and how well the rules fit."""

from __future__ import annotations

import json

from crawler.extract.article import SiteRules, _without, extract_article
from crawler.extract.html import parse_html

URL = "https://news.test/story/"
PARAGRAPHS = [
    "Officials in Baku said on Tuesday that the corridor would open to freight next spring, "
    "ending two years of talks between the five countries along the route.",
    "The agreement covers rail, road and ferry links across the Caspian Sea, and a customs "
    "regime that lets sealed containers cross three borders without inspection.",
    "Shipping companies welcomed the plan but warned that port capacity in Aktau and Baku "
    "would have to double before the corridor could carry the volumes promised.",
]
RULES = SiteRules(
    story="article.story",
    title="h1.headline",
    published=".dateline",
    date_formats=("%d %B %Y %H:%M",),
    timezone="Asia/Baku",
    author=".byline",
    body="article.story .body",
    drop=(".share",),
    drop_text=(r"^news\.test$",),
)
LD = {
    "@type": "NewsArticle",
    "headline": "Corridor opens next spring",
    "author": {"name": "Leyla Aliyeva"},
    "datePublished": "2025-10-28T10:06:00+04:00",
}


def head(og_type: str = "article", ld: dict | None = None) -> str:
    tags = f'<meta property="og:type" content="{og_type}">' if og_type else ""
    if ld is not None:
        tags += f'<script type="application/ld+json">{json.dumps(ld)}</script>'
    return f"<head><title>Corridor opens next spring | News</title>{tags}</head>"


def old_theme() -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f"<html>{head(ld=LD)}<body><article class='story'>"
        "<h1 class='headline'>Corridor opens next spring</h1>"
        "<span class='byline'>Leyla Aliyeva</span><div class='dateline'>28 October 2025 10:06</div>"
        f"<div class='body'>{body}<p>news.test</p></div>"
        "<div class='share'><p>Share this on social media!</p></div></article></body></html>"
    )


def new_theme(og_type: str = "article", ld: dict | None = LD) -> str:
    """The same story after a redesign: other classes and wrappers, the same metadata."""
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (
        f"<html>{head(og_type, ld)}<body><nav><a href='/'>Home</a><a href='/world/'>World</a>"
        "</nav><main><div class='entry'><h1 class='entry__title'>Corridor opens next spring</h1>"
        f"<div class='entry__content'>{body}<p>news.test</p></div></div></main>"
        "<footer><p>All rights reserved.</p></footer></body></html>"
    )


def test_rules_that_fit_take_every_field_and_nothing_falls_back() -> None:
    got = extract_article(old_theme(), URL, RULES)
    assert (got.rules_matched, got.fallbacks) == ("full", ())
    assert got.author == "Leyla Aliyeva" and got.published == "2025-10-28T10:06:00+04:00"
    assert got.paragraphs == PARAGRAPHS


def test_rules_that_no_longer_fit_fall_back_field_by_field_to_the_generic_path() -> None:
    got = extract_article(new_theme(), URL, RULES)
    assert got.rules_matched == "none"
    assert got.fallbacks == ("container", "title", "author", "date", "body")
    assert got.is_story  # JSON-LD and og:type say so, though the story container is gone
    assert got.title == "Corridor opens next spring"
    assert got.author == "Leyla Aliyeva"
    assert got.published == "2025-10-28T10:06:00+04:00"
    # The generic body, with the site's junk lines still applied to it.
    assert got.paragraphs == PARAGRAPHS


def test_a_partial_fit_names_only_the_fields_that_fell_back() -> None:
    page = old_theme().replace("class='dateline'", "class='meta-date'")
    got = extract_article(page, URL, RULES)
    assert (got.rules_matched, got.fallbacks) == ("partial", ("date",))
    assert got.published == "2025-10-28T10:06:00+04:00"  # from JSON-LD


def test_an_empty_body_container_falls_back_to_the_generic_body() -> None:
    page = old_theme().replace("<div class='body'>", "<div class='body'></div><div>")
    got = extract_article(page, URL, RULES)
    assert got.fallbacks == ("body",)
    assert got.paragraphs == PARAGRAPHS


def test_only_declared_fields_count_and_a_site_without_rules_reports_none() -> None:
    rules = SiteRules(title="h1.headline", body="article.story .body")
    assert rules.fields == ("title", "body")
    got = extract_article(new_theme(), URL, rules)
    assert (got.rules_matched, got.fallbacks) == ("none", ("title", "body"))
    plain = extract_article(new_theme(), URL, SiteRules())
    assert (plain.rules_matched, plain.fallbacks) == ("", ())


def test_the_page_type_the_page_declares() -> None:
    assert extract_article(new_theme(), URL).page_type == "article"
    assert extract_article(new_theme("article", None), URL).page_type == "article"
    assert extract_article(new_theme("website", None), URL).page_type == "website"
    assert extract_article(new_theme("", None), URL).page_type is None
    # stories_only still says what a page declares itself, without extracting its body
    about = extract_article(new_theme("website", None), URL, RULES, stories_only=True)
    assert (about.is_story, about.page_type, about.text) == (False, "website", "")


def test_json_ld_that_needs_cleaning_still_declares_the_page_type() -> None:
    """The page type is read from the same JSON-LD the metadata reads, so a script with a
    trailing comma or raw newlines in a string (common in CMS templates) counts too."""
    sloppy = '{"@type": "NewsArticle", "headline": "A story", "articleBody": "one\ntwo",}'
    page = (
        f'<html><head><script type="application/ld+json">{sloppy}</script>'
        '<meta property="og:type" content="website"></head>'
        "<body><h1>A story</h1><p>Its text.</p></body></html>"
    )
    assert extract_article(page, URL).page_type == "article"


def test_drop_rules_apply_in_order_whatever_their_kind() -> None:
    """Bare tag selectors are removed in one walk, but the rules still apply one after the
    other: a structural selector after them sees the page without what they removed."""
    page = (
        "<html><body><div class='story'><form>Subscribe</form><p>First.</p><p>Second.</p>"
        "<script>x()</script><aside class='share'>Share</aside></div></body></html>"
    )
    tree = _without(parse_html(page), ("FORM", "script", "p:first-child", ".share", "aside"))
    story = tree.find(".//div")
    assert story is not None
    assert [el.tag for el in story] == ["p"]  # the form went first, so "First." was first
    assert story.text_content() == "Second."
