"""Apprise message bodies: Markdown for services that render it (or HTML, which Apprise makes
from the Markdown), plain text for the others; the title apart.

Article text is untrusted and the services behind Apprise interpret it in many ways, so every
piece of it is made inert before it is placed: in Markdown, the characters that could start
markup (emphasis, links, images, code, HTML, entities, tables, strike-through) are
backslash-escaped, which CommonMark, Python-Markdown (Apprise's HTML conversion) and Apprise's
per-service dialects all read as literal characters; link targets are http(s) URLs only,
percent-encoded where Markdown would end them. In every format, an ``@`` before a word gets a
zero-width space, so ``@everyone``, ``@channel`` or ``@here`` in a title never pings anyone.
Untrusted text never starts a line, so it cannot open a heading, list or quote either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from crawler.alerts.base import Alert, Change
from crawler.alerts.email_body import text_body
from crawler.alerts.render import APP, clean, highlight, label, subject, title_of, watch_names, when

MARKDOWN, TEXT = "markdown", "text"
_MARKUP = re.compile(r"([\\`*_\[\]<>&~|#])")
_MENTION = re.compile(r"@(?=\w)")
# What opens a block (list item, setext underline, numbered list) when a line starts with it.
_BLOCK_START = re.compile(r"^(\s*\d*)([-+=.)])")
_URL_ENDERS = {"(": "%28", ")": "%29", " ": "%20", "<": "%3C", ">": "%3E", "\\": "%5C"}
ZWSP = "\u200b"


@dataclass(frozen=True)
class Body:
    """One Apprise message: its title (empty when the service has no title field and the
    headline is the body's first line), its body, and the body's format."""

    title: str
    body: str
    format: str  # MARKDOWN | TEXT


def defuse(text: str) -> str:
    """Mentions made inert: ``@everyone`` -> ``@\\u200beveryone`` (shown the same)."""
    return _MENTION.sub("@" + ZWSP, text)


def md(text: str) -> str:
    """Untrusted text as literal Markdown: markup characters escaped, mentions defused."""
    return defuse(_MARKUP.sub(r"\\\1", text))


def unblock(markdown: str) -> str:
    """Escaped text that starts a line, kept from opening a list or a setext heading."""
    return _BLOCK_START.sub(r"\1\\\2", markdown, count=1)


def md_link(text: str, url: str | None) -> str:
    """``[text](url)`` for an http(s) URL, else the escaped text alone."""
    target = clean(url)
    if not target.startswith(("http://", "https://")):
        return md(text)
    for char, code in _URL_ENDERS.items():
        target = target.replace(char, code)
    return f"[{md(text)}]({target})"


def compose(alerts: Sequence[Alert], fmt: str, titled: bool, part: str = "") -> Body:
    """The message for these alerts in ``fmt``; ``titled``: the service shows a title field;
    ``part``: e.g. " (part 1 of 2)" for a digest split to fit the service."""
    title = defuse(subject(alerts) + part)
    if fmt == TEXT:
        body = defuse(text_body(alerts))
        return Body(title, body, TEXT) if titled else Body("", f"{title}\n\n{body}", TEXT)
    body = markdown_body(alerts)
    if titled:
        return Body(title, body, MARKDOWN)
    return Body("", f"**{md(subject(alerts) + part)}**\n\n{body}", MARKDOWN)


def markdown_body(alerts: Sequence[Alert]) -> str:
    """The Markdown of one alert or a digest (an intro line, then each story)."""
    parts = [markdown_story(a) for a in alerts]
    if len(alerts) > 1:
        intro = f"**{len(alerts)} stories matching {md(', '.join(watch_names(alerts)))}**"
        parts.insert(0, intro)
    return "\n\n---\n\n".join(parts) + f"\n\n_Sent by {APP}._\n"


def markdown_story(alert: Alert) -> str:
    """One alert as Markdown paragraphs: headline, where and when, snippets, changes."""
    if alert.is_notice:
        return (
            f"**{md(label(alert))}:** {md(clean(alert.site))}\n{unblock(md(clean(alert.message)))}"
        )
    lines = [
        f"**{md(label(alert))}:** {md_link(title_of(alert), alert.url)}\n"
        f"Site: {md(clean(alert.site))} · Published: {md(when(alert.published))} · "
        f"Watches: {md(', '.join(watch_names([alert])))}"
    ]
    lines += ["> " + highlight(s, md, lambda w: f"**{md(w)}**") for s in alert.snippets]
    if alert.change:
        lines.append(markdown_change(alert.change))
    return "\n\n".join(lines)


def markdown_change(change: Change) -> str:
    """What an edit changed, as a list."""
    rows = ["**What changed**", ""]
    if change.old_title is not None:
        rows.append(f"- Title was: {md(clean(change.old_title, 250))}")
    rows += [f"- Added: {md(clean(s))}" for s in change.added]
    if change.more_added:
        rows.append(f"- … and {change.more_added} more added")
    rows += [f"- Removed: {md(clean(s))}" for s in change.removed]
    if change.more_removed:
        rows.append(f"- … and {change.more_removed} more removed")
    return "\n".join(rows)
