"""Extraction of one page (``pipelines.extract``): site rules, metadata fallbacks, and the
pipeline's decisions, on small inline pages."""

from __future__ import annotations

import asyncio
import json

import lxml.html
import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from crawler.extract.article import SiteRules, _selector, block_texts, extract_article
from crawler.story import Page, Story
from pipelines.extract import ExtractPipeline

URL = "https://news.test/2025/10/story/"
PARAGRAPHS = [
    "Officials in Baku said on Tuesday that the corridor would open to freight next spring.",
    "The agreement covers rail, road and ferry links across the Caspian Sea and beyond.",
]
RULES = SiteRules(
    story="article.story",
    title="h1.headline",
    published=".dateline",
    date_formats=("%d %B %Y %H:%M", "%d.%m.%Y %H:%M"),
    timezone="Asia/Baku",
    author_pattern=r"^By\s+(?P<author>[^|]+?)\s*\|",
    body="article.story .body",
    drop=(".share", "aside", "script"),
    drop_text=(r"^caliber\.az$",),
)


def page(body: str, head: str = "", lang: str = "en") -> str:
    head = f"<head><title>Site</title>{head}</head>"
    return f'<!DOCTYPE html><html lang="{lang}">{head}<body>{body}</body></html>'


def story_page(dateline: str = "28 October 2025 10:06", extra: str = "") -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return page(
        '<nav><a href="/">Home</a></nav>'
        '<article class="story main"><h1 class="headline">Corridor  opens\n next spring</h1>'
        f'<div class="dateline">{dateline}</div>'
        '<div class="body"><p>By Leyla Aliyeva | Caliber</p>'
        f"{paragraphs}"
        '<div class="share"><p>Share this on social media!</p></div>'
        "<aside><p>Related: something else entirely</p></aside>"
        "<p>caliber.az</p><p>Views: 1,204</p><p>Follow us on Telegram</p>"
        f"<script>var x = 1;</script>{extra}</div></article>"
    )


# --- site rules --------------------------------------------------------------------------------


def test_site_rules_give_title_date_author_and_clean_body() -> None:
    got = extract_article(story_page(), URL, RULES)
    assert got.is_story
    assert got.title == "Corridor opens next spring"
    assert got.published == "2025-10-28T10:06:00+04:00"  # naive date taken in Asia/Baku
    assert got.author == "Leyla Aliyeva"
    assert got.language == "en"
    # Dropped selectors, drop_text and the common junk lines are gone; the byline stays text.
    assert got.paragraphs == ["By Leyla Aliyeva | Caliber", *PARAGRAPHS]
    assert got.text == "\n\n".join(got.paragraphs)


def test_second_date_format_and_unparseable_date() -> None:
    assert extract_article(story_page("03.11.2025 18:30"), URL, RULES).published == (
        "2025-11-03T18:30:00+04:00"
    )
    assert extract_article(story_page("sometime soon"), URL, RULES).published is None


def test_drop_text_is_case_insensitive_and_anchored() -> None:
    extra = "<p>CALIBER.AZ</p><p>Read caliber.az for more</p>"
    got = extract_article(story_page(extra=extra), URL, RULES)
    assert "CALIBER.AZ" not in got.paragraphs
    assert "Read caliber.az for more" in got.paragraphs


def test_author_selector_wins_over_pattern() -> None:
    rules = SiteRules(author=".byline", body=".body")
    html = page('<span class="byline"> Anar  Mammadov </span><div class="body"><p>Text.</p></div>')
    assert extract_article(html, URL, rules).author == "Anar Mammadov"


def test_story_selector_tells_stories_from_other_pages() -> None:
    about = page('<div class="body"><h1 class="headline">About us</h1><p>We are a site.</p></div>')
    got = extract_article(about, URL, RULES)
    assert not got.is_story
    assert got.title == "About us"  # the metadata fallback (<h1>) still applies


def test_stories_only_skips_the_body_of_other_pages() -> None:
    about = page('<div class="body"><h1>About us</h1><p>We are a site.</p></div>')
    got = extract_article(about, URL, RULES, stories_only=True)
    assert not got.is_story and got.text == "" and got.title == "About us"
    full = extract_article(story_page(), URL, RULES, stories_only=True)
    assert full == extract_article(story_page(), URL, RULES)


def test_no_body_container_falls_back_to_the_generic_extractor() -> None:
    prose = " ".join(PARAGRAPHS * 3)
    html = page(f'<div id="main"><h1>Corridor</h1><p>{prose}</p><p>{prose}</p></div>')
    got = extract_article(html, URL, SiteRules(body=".missing"))
    assert PARAGRAPHS[0] in got.text


def test_block_texts_takes_innermost_blocks_once() -> None:
    tree = lxml.html.fromstring(
        "<div><ul><li><p>One</p></li><li>Two</li></ul><blockquote><p>Three</p></blockquote>"
        "<p>  Four \n five </p><p> </p></div>"
    )
    assert block_texts(tree) == ["One", "Two", "Three", "Four five"]


@pytest.mark.parametrize(
    "css",
    [".share", "article.story .body", "body article.story", "h1.headline", "aside", "div > p",
     ".story.main", "article .body p:first-child", "[class~=story]", "div p, aside"],
)  # fmt: skip
def test_compiled_selectors_match_exactly_what_cssselect_matches(css: str) -> None:
    tree = lxml.html.document_fromstring(story_page())
    assert _selector(css)(tree) == tree.cssselect(css)


# --- metadata fallbacks ------------------------------------------------------------------------


def json_ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def test_json_ld_graph_gives_the_article_metadata() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebPage", "name": "Not the headline"},
            {
                "@type": ["NewsArticle"],
                "headline": "Rare earths deal signed",
                "author": [{"@type": "Person", "name": "Aditya Pareek"}, {"name": "Meera Iyer"}],
                "datePublished": "2025-11-03T15:30:00+05:30",
                "dateModified": "2025-11-03T16:00:00+05:30",
                "inLanguage": "en-US",
                "articleBody": "The body from JSON-LD. " * 20,
            },
        ],
    }
    got = extract_article(page("<main><p>Short.</p></main>", json_ld(graph), lang=""), URL)
    assert got.is_story
    assert got.title == "Rare earths deal signed"
    assert got.author == "Aditya Pareek, Meera Iyer"
    assert got.published == "2025-11-03T15:30:00+05:30"
    assert got.modified == "2025-11-03T16:00:00+05:30"
    assert got.language == "en"


def test_open_graph_tags_when_there_is_no_json_ld() -> None:
    head = (
        '<meta property="og:type" content="article">'
        '<meta property="og:title" content="Oil prices edge higher">'
        '<meta property="article:published_time" content="2025-10-28 09:00">'
        '<meta property="article:author" content="https://news.test/authors/7">'
        '<meta name="author" content="Rashad Karimov">'
        '<meta property="og:description" content="Brent rose.">'
        '<meta property="og:url" content="https://news.test/oil/">'
    )
    got = extract_article(page("<h1>Another title</h1>", head, lang="az"), URL, SiteRules())
    assert got.is_story  # og:type=article
    assert got.title == "Oil prices edge higher"
    # A local time with no offset and no site zone: only its day is certain (a "+00:00"
    # would be hours off on most sites).
    assert got.published == "2025-10-28"
    assert got.author == "Rashad Karimov"
    assert got.description == "Brent rose."
    assert got.canonical == "https://news.test/oil/"
    assert got.language == "az"  # <html lang>


def test_site_timezone_applies_to_naive_metadata_dates() -> None:
    head = '<meta property="article:published_time" content="2025-10-28T09:00:00">'
    got = extract_article(page("<p>x</p>", head), URL, SiteRules(timezone="Asia/Kolkata"))
    assert got.published == "2025-10-28T09:00:00+05:30"


def test_plain_html_fallbacks_and_rules_language() -> None:
    got = extract_article(page("<p>x</p>", lang=""), URL, SiteRules(language="ru"))
    assert not got.is_story  # nothing says it is an article
    assert got.title == "Site"  # <title> when there is no <h1>
    assert got.language == "ru"


def test_bad_input_is_not_a_story_and_raises_nothing() -> None:
    for html in ("", b"", b"\xff\xfe\x00garbage", "<<<>>>"):
        got = extract_article(html, URL, RULES, stories_only=True)
        assert not got.is_story and got.text == "" and got.title == ""


# --- the pipeline ------------------------------------------------------------------------------


class RulesSpider(Spider):
    name = "rules"
    rules = RULES


def run_pipeline(html: str, evidence: str = "", hints: dict[str, str] | None = None) -> Story:
    return run_pipeline_on(html, evidence, hints)[0]


def run_pipeline_on(
    html: str, evidence: str = "", hints: dict[str, str] | None = None
) -> tuple[Story, dict[str, int]]:
    """The pipeline on one page, and the crawl stats it left."""
    crawler = get_crawler(RulesSpider, {"NEWSMON_EXTRACT_WORKERS": 0})
    crawler.spider = RulesSpider()
    pipeline = ExtractPipeline.from_crawler(crawler)
    pipeline.open_spider()
    hints = {"language": "xx", "author": "Hint"} if hints is None else hints
    item = Story(url=URL, site="s", page=Page.of_text(html), hints=hints, evidence=evidence)
    try:
        return asyncio.run(pipeline.process_item(item)), crawler.stats.get_stats()
    except DropItem as exc:
        exc.stats = crawler.stats.get_stats()  # type: ignore[attr-defined]
        raise


def test_pipeline_fills_the_item_and_drops_the_page() -> None:
    item = run_pipeline(story_page())
    assert item.title == "Corridor opens next spring"
    assert item.author == "Leyla Aliyeva" and item.language == "en"
    assert item.page is None


def test_pipeline_drops_non_stories_at_info_level() -> None:
    about = page('<div class="body"><h1>About us</h1><p>We are a site.</p></div>')
    with pytest.raises(DropItem, match="^not a story") as raised:
        run_pipeline(about)
    assert raised.value.log_level == "INFO"
    with pytest.raises(DropItem, match=r"^not a story \(no title or body\)") as raised:
        run_pipeline(page("<p></p>", lang=""), evidence="trusted")
    assert raised.value.log_level == "INFO"


def test_pipeline_uses_discovery_hints_when_the_page_is_silent() -> None:
    html = page('<article class="story"><h1 class="headline">T</h1><div class="body"><p>B.</p>'
                "</div></article>", lang="")  # fmt: skip
    item = run_pipeline(html)
    assert item.author == "Hint" and item.language == "xx"


# --- what is a story: rules are hints, evidence decides ----------------------------------------


def redesigned(head: str = "", text: str = " ".join(PARAGRAPHS * 3)) -> str:
    """A story page in a theme the rules do not know."""
    return page(f'<main class="entry"><h1>Corridor opens</h1><p>{text}</p></main>', head)


def test_a_page_the_rules_no_longer_fit_is_stored_with_generic_extraction() -> None:
    item, stats = run_pipeline_on(redesigned('<meta property="og:type" content="article">'))
    assert item.title == "Corridor opens" and PARAGRAPHS[0] in item.text
    assert stats["newsmon/rules/none"] == 1 and stats["newsmon/fallbacks"] == 1
    assert {k: v for k, v in stats.items() if k.startswith("newsmon/fallback/")} == {
        "newsmon/fallback/container": 1,
        "newsmon/fallback/title": 1,
        "newsmon/fallback/date": 1,
        "newsmon/fallback/author": 1,
        "newsmon/fallback/body": 1,
    }


def test_a_page_a_feed_lists_is_a_story_though_it_declares_nothing() -> None:
    item = run_pipeline(redesigned(), evidence="listed")
    assert item.title == "Corridor opens"
    item = run_pipeline(redesigned(), evidence="known")  # a re-check of a stored story
    assert item.title == "Corridor opens"


def test_a_pattern_match_is_a_story_only_with_a_body_of_some_length() -> None:
    assert run_pipeline(redesigned(), evidence="pattern").title == "Corridor opens"
    with pytest.raises(DropItem, match="next to no text") as raised:
        run_pipeline(redesigned(text="We are a small team in Baku."), evidence="pattern")
    assert raised.value.stats["newsmon/outcome/not_a_story"] == 1  # type: ignore[attr-defined]


def test_a_page_that_declares_itself_something_else_is_dropped_unless_listed() -> None:
    website = redesigned('<meta property="og:type" content="website">')
    with pytest.raises(DropItem, match=r"declares itself a website, not an article"):
        run_pipeline(website, evidence="pattern")
    assert run_pipeline(website, evidence="listed").title == "Corridor opens"


def test_a_page_whose_json_ld_describes_a_web_page_is_no_story_whatever_its_og_type() -> None:
    """How Yoast marks a static page: og:type=article, and a graph without an article."""
    graph = {"@graph": [{"@type": "WebPage", "name": "About"}, {"@type": "WebSite"}]}
    head = f'<meta property="og:type" content="article">{json_ld(graph)}'
    with pytest.raises(DropItem, match=r"declares itself a webpage, not an article"):
        run_pipeline(redesigned(head), evidence="pattern")
    graph["@graph"].append({"@type": "NewsArticle", "headline": "Corridor opens"})
    head = f'<meta property="og:type" content="article">{json_ld(graph)}'
    assert run_pipeline(redesigned(head), evidence="pattern").title == "Corridor opens"


def test_a_speculative_link_must_say_it_is_an_article() -> None:
    with pytest.raises(DropItem, match="does not say it is an article"):
        run_pipeline(redesigned(), evidence="")


def test_a_feed_title_stands_in_for_a_page_without_one() -> None:
    html = "<html><body><main><p>" + " ".join(PARAGRAPHS * 3) + "</p></main></body></html>"
    item = run_pipeline(html, evidence="listed", hints={"title": "Corridor &#8216;opens&#8217;"})
    assert item.title == "Corridor ‘opens’"


def test_a_page_outside_the_story_container_is_no_story_while_the_rules_fit_the_run() -> None:
    """An "About us" page that a WordPress SEO plugin labels og:type=article: the story
    container tells it apart, but only while the rules fit the site (not after a redesign)."""
    crawler = get_crawler(RulesSpider, {"NEWSMON_EXTRACT_WORKERS": 0})
    crawler.spider = RulesSpider()
    pipeline = ExtractPipeline.from_crawler(crawler)
    pipeline.open_spider()
    about = redesigned('<meta property="og:type" content="article">', text="About us. " * 60)

    def process(html: str, evidence: str = "pattern") -> Story:
        item = Story(url=URL, site="s", page=Page.of_text(html), evidence=evidence)
        return asyncio.run(pipeline.process_item(item))

    assert process(about).title == "Corridor opens"  # no page fit the rules yet: a story
    assert process(story_page()).title == "Corridor opens next spring"
    with pytest.raises(DropItem, match="no story container, while the site's rules fit"):
        process(about)
    assert process(about, evidence="listed").title == "Corridor opens"  # a feed lists it


@pytest.mark.parametrize(
    ("dateline", "published"),
    [
        ("28 October 2025 10:06", "2025-10-28T10:06:00+04:00"),
        ("28 октября 2025 10:06", "2025-10-28T10:06:00+04:00"),  # the Russian edition
        ("28 oktyabr 2025 17:05", "2025-10-28T17:05:00+04:00"),  # the Azerbaijani edition
    ],
)
def test_the_site_date_is_read_in_every_edition_s_language(dateline: str, published: str) -> None:
    found = extract_article(story_page(dateline), URL, RULES)
    assert found.published == published
    assert "date" not in found.fallbacks
