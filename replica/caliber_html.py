"""HTML templates of the Caliber.az replica (class names are a contract with the spiders).

Two themes: ``classic`` (the markup the ``caliber`` spider's rules were written for) and
``redesign`` (BEM class names, an ``<article>`` with a machine-readable ``<time>``, other
wrappers; the same stories, OpenGraph tags and RSS), as the site looks after a redesign.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

from replica.base import Story, is_heading, slugify
from replica.render import attr, esc, long_date

SECTIONS = {
    "en": {"world": "World", "politics": "Politics", "economy": "Economy", "society": "Society"},
    "ru": {"world": "Мир", "politics": "Политика", "economy": "Экономика", "society": "Общество"},
    "az": {
        "world": "Dünya",
        "politics": "Siyasət",
        "economy": "İqtisadiyyat",
        "society": "Cəmiyyət",
    },
}
BAKU = timezone(timedelta(hours=4), "Asia/Baku")  # no DST since 2016
HOMES = {"en": "/en/", "ru": "/", "az": "/az/"}
# The real English page offers "ru" and "arm" (the seed shows exactly these two words).
SWITCHER = {
    "en": [("ru", "/"), ("arm", "#")],
    "ru": [("en", "/en/"), ("arm", "#")],
    "az": [("en", "/en/"), ("ru", "/")],
}
IMPORTANT = {
    "en": "The most important {} news",
    "ru": "Самые важные новости: {}",
    "az": "Ən vacib xəbərlər: {}",
}
CLASSIC, REDESIGN = "classic", "redesign"
THEMES = (CLASSIC, REDESIGN)
SOCIAL = ["twitter", "youtube", "instagram", "facebook", "telegram", "apple store", "play market"]


def baku_date(when: datetime, language: str) -> str:
    """A Caliber timestamp ("28 October 2025 10:06"), always in Baku time."""
    return long_date(when.astimezone(BAKU), language)


def sections_of(language: str) -> dict[str, str]:
    """Section slug -> display name in one edition."""
    return SECTIONS[language]


def page(language: str, title: str, head: str, main: str, theme: str = CLASSIC) -> str:
    """A whole Caliber page: head, header chrome, main content, footer."""
    opening, closing = (
        ('<main class="main_content">', "</main>")
        if theme == CLASSIC
        else ('<div class="layout"><main class="layout__main" id="content">', "</main></div>")
    )
    return f"""<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
{head}
<link rel="alternate" type="application/rss+xml" title="Caliber.Az" href="/rss.xml">
</head>
<body>
{_header(language)}
{opening}
{main}
{closing}
<footer class="footer"><a href="{HOMES[language]}">Caliber.Az</a> <a href="/rss.xml">RSS</a></footer>
</body>
</html>
"""  # noqa: E501


def _header(language: str) -> str:
    social = "".join(f'<li><a href="#">{esc(s)}</a></li>' for s in SOCIAL)
    switch = "".join(f'<li><a href="{href}">{code}</a></li>' for code, href in SWITCHER[language])
    menu = "".join(
        f'<li><a href="{HOMES[language]}category/{slug}">{esc(name)}</a></li>'
        for slug, name in SECTIONS[language].items()
    )
    return f"""<header class="header">
<div class="header_top">
<ul class="social_links">{social}</ul>
<button class="night_theme" type="button">night_theme</button>
<ul class="lang_switcher">{switch}</ul>
<button class="search_toggle" type="button">search</button>
</div>
<form class="search_form" action="/en/search/" method="get">
<label for="search_input">WHAT ARE YOU LOOKING FOR ?</label>
<input id="search_input" type="text" name="query">
</form>
<a class="logo" href="{HOMES[language]}" aria-label="Caliber.Az"></a>
<nav class="menu"><ul>{menu}</ul></nav>
<div class="header_notice">
<p>Any use of materials is allowed only if there is a hyperlink to Caliber.az</p>
<p>Caliber.az © 2025. .</p>
</div>
</header>"""


def article_main(
    story: Story, url: str, sidebar: Sequence[tuple[str, Story]], theme: str = CLASSIC
) -> tuple[str, str]:
    """The extra <head> tags and the main content of an article page."""
    lead = story.paragraphs[0] if story.paragraphs else ""
    head = f"""<meta name="description" content="{attr(lead)}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="Caliber.Az">
<meta property="og:title" content="{attr(story.title)}">
<meta property="og:url" content="{attr(url)}">
<meta property="og:description" content="{attr(lead)}">
<link rel="canonical" href="{attr(url)}">"""
    post = _post(story) if theme == CLASSIC else _article(story)
    return head, f"{post}\n{_sidebar(story, sidebar)}"


def _post(story: Story) -> str:
    section = slugify(story.section)
    name = SECTIONS[story.language].get(section, story.section)
    return f"""<div class="post">
<div class="post_categoty"><a href="{HOMES[story.language]}category/{section}">{esc(name.upper())}</a></div>
<div class="font_size_buttons"><button type="button">A+</button> <button type="button">A-</button></div>
<h1 class="post_title">{esc(story.title)}</h1>
<div class="post_time">{baku_date(story.published, story.language)}</div>
<div class="post_body">
{_body(story.paragraphs)}
</div>
<div class="post_signature">Caliber.Az</div>
<div class="post_hits">Views: {story.views}</div>
<div class="share_block"><span class="share_icon">share-line</span><span>Liked the story? Share it on social media!</span>
<button type="button">print</button> <button type="button">copy link</button>
<span class="copy_notice">Ссылка скопирована</span></div>
<div class="ads_block">ads</div>
<div class="telegram_block"><span class="telegram_icon">telegram</span>
<a href="#">Follow us on Telegram</a> <a href="#">Follow us on Telegram</a></div>
</div>"""  # noqa: E501 - template lines mirror the markup contract


def _article(story: Story) -> str:
    """The redesign's story: the same blocks as ``_post`` under other names and wrappers."""
    section = slugify(story.section)
    name = SECTIONS[story.language].get(section, story.section)
    stamp = story.published.astimezone(BAKU)
    return f"""<article class="article" itemscope>
<header class="article__head">
<a class="article__category" href="{HOMES[story.language]}category/{section}">{esc(name.upper())}</a>
<h1 class="article__title">{esc(story.title)}</h1>
<time class="article__date" datetime="{stamp.isoformat()}">{baku_date(story.published, story.language)}</time>
</header>
<div class="article__text">
{_body(story.paragraphs)}
</div>
<footer class="article__footer">
<div class="article__source">Caliber.Az</div>
<div class="article__views"><span class="icon-eye"></span>Views: {story.views}</div>
<div class="article__share"><span>Liked the story? Share it on social media!</span>
<button type="button">print</button> <button type="button">copy link</button></div>
<div class="article__banner">ads</div>
<div class="article__telegram"><a href="#">Follow us on Telegram</a></div>
</footer>
</article>"""  # noqa: E501 - template lines mirror the markup


def _body(paragraphs: Sequence[str]) -> str:
    # The CMS has no subheading markup: editors bold a paragraph instead.
    return "\n".join(
        f"<p><b>{esc(p)}</b></p>" if is_heading(p) else f"<p>{esc(p)}</p>" for p in paragraphs
    )


def _sidebar(story: Story, others: Sequence[tuple[str, Story]]) -> str:
    name = SECTIONS[story.language].get(slugify(story.section), story.section)
    items = "\n".join(
        f'<li><a href="{attr(path)}">{esc(s.title)}</a>'
        f'<span class="sidebar_time">{baku_date(s.published, s.language)}</span>'
        "</li>"
        for path, s in others
    )
    subtitle = IMPORTANT[story.language].format(name.lower())
    return f"""<aside class="sidebar">
<div class="sidebar_title">{esc(name.upper())}</div>
<div class="sidebar_subtitle">{esc(subtitle)}</div>
<ul class="sidebar_list">
{items}
</ul>
<div class="loader">loading</div>
</aside>"""


def news_item(story: Story, path: str) -> str:
    """One entry of a home or category listing."""
    when = baku_date(story.published, story.language)
    return (
        f'<div class="news_item"><a class="news_item_title" href="{attr(path)}">'
        f"{esc(story.title)}</a>"
        f'<div class="news_item_time">{when}</div></div>'
    )


def card(story: Story, path: str) -> str:
    """One `.float_block` search result card."""
    when = baku_date(story.published, story.language)
    return (
        f'<div class="float_block"><a href="{attr(path)}"><div class="float_block_title">'
        f'{esc(story.title)}</div></a><div class="float_block_time">{when}</div></div>'
    )


def next_link(path: str, number: int) -> str:
    """The "next page" link of a listing."""
    return f'<div class="pagination"><a class="next_page" rel="next" href="{path}?page={number}">Next page</a></div>'  # noqa: E501
