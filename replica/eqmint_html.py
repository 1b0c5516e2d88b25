"""HTML templates of the EQMint replica, a WordPress news theme with Yoast SEO.

The post content is texturized the WordPress way (curly quotes and dashes become numeric
entities) both on the page and in the REST API, as a real WordPress site serves them.

Two themes: ``classic`` (the markup the ``eqmint`` spider's rules were written for) and
``newspaper`` (a tagDiv Newspaper-style page-builder template: no ``<article>``, other classes
and wrappers around the same post content, the same Yoast JSON-LD and OpenGraph tags), as a
site looks the day it changes its theme.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from html import escape

from replica.base import Story, is_heading, slugify
from replica.render import MONTHS, attr, esc, json_script

IST = timezone(timedelta(hours=5, minutes=30), "Asia/Kolkata")
SITE = "EQMint"
CLASSIC, NEWSPAPER = "classic", "newspaper"
THEMES = (CLASSIC, NEWSPAPER)
# The wrappers each theme puts around a page's main content: (open, close).
_WRAPPERS = {
    CLASSIC: (
        '<div id="page" class="site">',
        '<div id="content" class="site-content">\n<main id="main" class="site-main">',
        "</main>",
    ),
    NEWSPAPER: (
        '<div id="td-outer-wrap" class="td-theme-wrap">',
        '<div class="td-main-content-wrap td-container-wrap">\n<div class="td-container">'
        '\n<div class="td-pb-row"><div class="td-pb-span8 td-main-content" role="main">',
        "</div></div>\n</div>",
    ),
}
# The theme prints today's date in its top bar; frozen so pages are reproducible.
DATE_BANNER = "3 November 2025 (Monday)"
DISCLAIMER = (
    "Disclaimer: This article is based on information available from public sources. It has not"
    " been reported by EQMint journalists. EQMint has compiled and presented the content for"
    " informational purposes only and does not guarantee its accuracy or completeness. Readers"
    " are advised to verify details independently before relying on them."
)
_ENTITIES = str.maketrans(
    {"’": "&#8217;", "‘": "&#8216;", "“": "&#8220;", "”": "&#8221;", "–": "&#8211;",
     "—": "&#8212;", "…": "&#8230;"}
)  # fmt: skip


def texturize(text: str) -> str:
    """Escape text the way WordPress renders it: HTML escapes plus typographic entities."""
    return escape(text, quote=False).translate(_ENTITIES)


def wp_date(when: datetime) -> str:
    """WordPress's display date: "November 3, 2025"."""
    return f"{MONTHS['en'].split()[when.month - 1]} {when.day}, {when.year}"


def content_html(story: Story, origin: str) -> str:
    """The post content as stored in WordPress: byline, paragraphs, subheadings, trailer."""
    byline = f"Author: {story.author or SITE} | {SITE} | {story.section}"
    lines = [f"<p><strong>{texturize(byline)}</strong></p>"]
    for para in story.paragraphs:
        if is_heading(para):
            level = getattr(para, "level", 2)
            lines.append(f'<h{level} class="wp-block-heading">{texturize(para)}</h{level}>')
        else:
            lines.append(f"<p>{texturize(para)}</p>")
    lines.append(f'<p>For more such information visit <a href="{origin}/">{SITE}</a></p>')
    lines.append(f"<p><em>{texturize(DISCLAIMER)}</em></p>")
    return "\n".join(lines) + "\n"


def page(
    origin: str,
    title: str,
    body_class: str,
    head: str,
    main: str,
    sidebar: str,
    theme: str = CLASSIC,
) -> str:
    """A whole EQMint page around `main`, in one of the `THEMES`."""
    outer, inner, close = _WRAPPERS[theme]
    if theme == NEWSPAPER:
        body_class += " td-standard-pack tdb-template global-block-template-1"
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title>
<meta name="robots" content="index, follow, max-image-preview:large">
{head}
<link rel="alternate" type="application/rss+xml" title="{SITE} &raquo; Feed" href="/feed/">
<link rel="https://api.w.org/" href="/wp-json/">
<meta name="generator" content="WordPress 6.8.3">
</head>
<body class="{body_class}">
{outer}
{_header(origin)}
{inner}
{main}
{close}
{sidebar}
</div>
<footer id="colophon" class="site-footer"><div class="site-info">eqmint</div></footer>
</div>
</body>
</html>
"""


def _header(origin: str) -> str:
    return f"""<header id="masthead" class="site-header">
<div class="td-header-top"><div class="td-header-date">{DATE_BANNER}</div></div>
<div class="site-branding"><a href="{origin}/" rel="home" class="custom-logo-link" aria-label="{SITE}"></a></div>
<nav id="site-navigation" class="main-navigation"><ul id="primary-menu" class="menu">
<li class="menu-item"><a href="{origin}/category/finance-news/">Finance News</a></li>
</ul></nav>
</header>"""  # noqa: E501 - one line per element keeps the markup readable


def head_tags(story: Story, url: str, graph: dict[str, object]) -> str:
    """The Yoast-style SEO tags of an article: OpenGraph, article times, canonical, JSON-LD."""
    lead = next((p for p in story.paragraphs if not is_heading(p)), "")
    return f"""<link rel="canonical" href="{attr(url)}">
<meta property="og:locale" content="en_US">
<meta property="og:type" content="article">
<meta property="og:title" content="{attr(story.title)}">
<meta property="og:description" content="{attr(lead)}">
<meta property="og:url" content="{attr(url)}">
<meta property="og:site_name" content="{SITE}">
<meta property="article:published_time" content="{story.published.isoformat()}">
<meta property="article:modified_time" content="{story.updated.isoformat()}">
<meta name="author" content="{attr(story.author or SITE)}">
<script type="application/ld+json" class="yoast-schema-graph">{json_script(graph)}</script>"""


def article(story: Story, post_id: int, origin: str) -> str:
    """The <article> element of a single post."""
    tags = ", ".join(
        f'<a href="{origin}/tag/{slugify(t)}/" rel="tag">{esc(t)}</a>' for t in story.tags
    )
    author_box = esc(slugify(story.tags[0]) if story.tags else "")
    category = slugify(story.section)
    return f"""<article id="post-{post_id}" class="post-{post_id} post type-post status-publish format-standard hentry category-{category}">
<header class="entry-header"><h1 class="entry-title">{esc(story.title)}</h1>
<div class="tdb-author-box"><span class="tdb-author-name">{author_box}</span> <span class="tdb-author-email">Email :</span></div>
</header>
<div class="entry-content">
{content_html(story, origin)}</div>
<footer class="entry-footer"><div class="tags-links">Related Tags: {tags}</div></footer>
</article>"""  # noqa: E501


def single(story: Story, post_id: int, origin: str, theme: str = CLASSIC) -> str:
    """The post itself (title, meta, content, tags) in the theme's markup."""
    return article(story, post_id, origin) if theme == CLASSIC else _tdb_post(story, origin)


def _tdb_post(story: Story, origin: str) -> str:
    """A tagDiv Newspaper cloud template: page-builder blocks instead of an <article>."""
    tags = "".join(
        f'<li><a href="{origin}/tag/{slugify(t)}/">{esc(t)}</a></li>' for t in story.tags
    )
    category = slugify(story.section)
    author = story.author or SITE
    return f"""<div class="tdc-row stretch_row_1200"><div class="vc_row tdi_52 wpb_row td-pb-row">
<div class="td_block_wrap tdb_breadcrumbs"><span><a href="{origin}/">Home</a></span> <i class="td-icon-right"></i> <span><a href="{origin}/category/{category}/">{esc(story.section)}</a></span></div>
<div class="td_block_wrap tdb_title tdi_55"><div class="tdb-block-inner"><h1 class="tdb-title-text">{esc(story.title)}</h1></div></div>
<div class="td_block_wrap tdb_single_author"><div class="tdb-author-name-wrap"><span class="tdb-author-by">By</span> <a class="tdb-author-name" href="{origin}/author/{slugify(author)}/">{esc(author)}</a></div></div>
<div class="td_block_wrap tdb_single_date"><time class="entry-date updated td-module-date" datetime="{story.published.isoformat()}">{wp_date(story.published)}</time></div>
<div class="td_block_wrap tdb_single_content tdi_60 td-pb-border-top"><div class="tdb-block-inner td-fix-index">
{content_html(story, origin)}</div></div>
<div class="td_block_wrap tdb_single_tags"><ul class="tdb-tags"><li><span>Related Tags:</span></li>{tags}</ul></div>
</div></div>"""  # noqa: E501


def comments(story: Story, origin: str) -> str:
    """The comments area: existing comments, then the "Leave a Reply" form."""
    listing = ""
    if story.comments:
        count = len(story.comments)
        label = "One thought" if count == 1 else f"{count} thoughts"
        items = "\n".join(_comment(story, i, n, t) for i, (n, t) in enumerate(story.comments))
        listing = (
            f'<h2 class="comments-title">{label} on &ldquo;{esc(story.title)}&rdquo;</h2>\n'
            f'<ol class="comment-list">\n{items}\n</ol>\n'
        )
    return f"""<div id="comments" class="comments-area">
{listing}<div id="respond" class="comment-respond">
<h3 id="reply-title" class="comment-reply-title">Leave a Reply</h3>
<form action="{origin}/wp-comments-post.php" method="post" id="commentform" class="comment-form">
<p class="comment-notes">Your email address will not be published. Required fields are marked <span class="required">*</span></p>
<p class="comment-form-comment"><textarea id="comment" name="comment" placeholder="Comment" required></textarea></p>
<p class="comment-form-author"><input id="author" name="author" type="text" placeholder="Name" required></p>
<p class="comment-form-email"><input id="email" name="email" type="email" placeholder="Email" required></p>
<p class="form-submit"><input name="submit" type="submit" id="submit" class="submit" value="Post Comment"></p>
</form>
</div>
</div>"""  # noqa: E501


def _comment(story: Story, index: int, name: str, text: str) -> str:
    when = (story.published + timedelta(minutes=47 * (index + 1))).astimezone(IST)
    meridiem = "am" if when.hour < 12 else "pm"
    stamp = f"{wp_date(when)} at {when.hour % 12 or 12}:{when:%M} {meridiem}"
    return f"""<li id="comment-{index + 1}" class="comment depth-1">
<article class="comment-body">
<footer class="comment-meta"><div class="comment-author vcard"><b class="fn">{esc(name)}</b> <span class="says">says:</span></div>
<div class="comment-metadata"><time datetime="{when.isoformat()}">{stamp}</time></div></footer>
<div class="comment-content"><p>{esc(text)}</p></div>
</article>
</li>"""  # noqa: E501


def related(links: Sequence[tuple[str, str]]) -> str:
    """The "Related Posts" block of (url, title) pairs."""
    items = "\n".join(f'<li><a href="{attr(u)}">{esc(t)}</a></li>' for u, t in links)
    return f'<div class="related-posts"><h3>Related Posts</h3>\n<ul>\n{items}\n</ul>\n</div>'


def sidebar(links: Sequence[tuple[str, str]]) -> str:
    """The widget area with the "Recent Posts" widget of (url, title) pairs."""
    items = "\n".join(f'<li><a href="{attr(u)}">{esc(t)}</a></li>' for u, t in links)
    return (
        '<aside id="secondary" class="widget-area">\n<section class="widget widget_recent_entries">'
        f'<h2 class="widget-title">Recent Posts</h2>\n<ul>\n{items}\n</ul>\n</section>\n</aside>'
    )


def summary(story: Story, post_id: int, url: str, excerpt: str) -> str:
    """One post in a listing or search results page."""
    return f"""<article id="post-{post_id}" class="post-{post_id} post type-post status-publish">
<header class="entry-header"><h2 class="entry-title"><a href="{attr(url)}" rel="bookmark">{esc(story.title)}</a></h2>
<div class="entry-meta"><time class="entry-date published" datetime="{story.published.isoformat()}">{wp_date(story.published)}</time> <span class="byline">by <span class="author vcard">{esc(story.author or SITE)}</span></span></div>
</header>
<div class="entry-summary"><p>{excerpt}</p></div>
</article>"""  # noqa: E501


def pagination(next_url: str | None) -> str:
    """The "Next" link under a listing, when there is a next page."""
    if next_url is None:
        return ""
    return f'<nav class="navigation pagination"><a class="next page-numbers" href="{attr(next_url)}">Next &raquo;</a></nav>'  # noqa: E501


def graph(story: Story, url: str, origin: str, words: int) -> dict[str, object]:
    """The Yoast JSON-LD @graph of an article: NewsArticle, WebPage, WebSite, Person."""
    person = f"{origin}/#/schema/person/{slugify(story.author or SITE)}"
    return {
        "@context": "https://schema.org",
        "@graph": [
            {
                "@type": "NewsArticle",
                "@id": f"{url}#article",
                "isPartOf": {"@id": url},
                "author": {"name": story.author or SITE, "@id": person},
                "headline": story.title,
                "datePublished": story.published.isoformat(),
                "dateModified": story.updated.isoformat(),
                "mainEntityOfPage": {"@id": url},
                "wordCount": words,
                "publisher": {"@id": f"{origin}/#organization"},
                "keywords": list(story.tags),
                "articleSection": [story.section],
                "inLanguage": "en-US",
            },
            {
                "@type": "WebPage",
                "@id": url,
                "url": url,
                "name": f"{story.title} - {SITE}",
                "datePublished": story.published.astimezone(UTC).isoformat(),
                "dateModified": story.updated.astimezone(UTC).isoformat(),
                "inLanguage": "en-US",
            },
            {
                "@type": "WebSite",
                "@id": f"{origin}/#website",
                "url": f"{origin}/",
                "name": SITE,
                "potentialAction": [
                    {
                        "@type": "SearchAction",
                        "target": {
                            "@type": "EntryPoint",
                            "urlTemplate": f"{origin}/?s={{search_term_string}}",
                        },
                        "query-input": "required name=search_term_string",
                    }
                ],
            },
            {"@type": "Organization", "@id": f"{origin}/#organization", "name": SITE},
            {"@type": "Person", "@id": person, "name": story.author or SITE},
        ],
    }
