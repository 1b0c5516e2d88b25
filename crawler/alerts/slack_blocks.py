"""Slack Block Kit payloads for alerts, within Slack's limits.

Article text is escaped (``&``, ``<``, ``>``) so ``<!channel>`` or ``<http://x|y>`` in a title is
shown, never executed. A section's text stays under 3000 characters and a post under 50 blocks
and a conservative size; a long digest is split into several posts, each complete on its own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from crawler.alerts.base import Alert, Change
from crawler.alerts.render import clean, highlight, label, title_of, watch_names, when

MAX_BLOCKS = 50
SECTION_LIMIT = 3000
HEADER_LIMIT = 150
FALLBACK_LIMIT = 300
POST_BUDGET = 12_000  # characters of JSON per post; well under Slack's message limits

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters, escaped so text is shown as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payloads(alerts: Sequence[Alert], digest: bool) -> list[tuple[tuple[Alert, ...], dict]]:
    """The posts for these alerts: one per alert, or a digest split to fit Slack's limits."""
    if not digest or len(alerts) == 1:
        return [((a,), _post([_header(label(a))], [a])) for a in alerts]
    chunks = _chunks(alerts)
    posts = []
    for i, chunk in enumerate(chunks, 1):
        part = f" (part {i} of {len(chunks)})" if len(chunks) > 1 else ""
        title = f"{len(alerts)} stories matching {', '.join(watch_names(alerts))}{part}"
        posts.append((tuple(chunk), _post([_header(title)], chunk)))
    return posts


def story_blocks(alert: Alert) -> list[Block]:
    """The blocks for one alert (a story or a notice), ending with a divider."""
    if alert.is_notice:
        text = (
            f"*{escape(label(alert))}*: {escape(clean(alert.site))}\n{escape(clean(alert.message))}"
        )
        return [_section(text), {"type": "divider"}]
    blocks = [_section(f"*{_link(alert)}*\n{escape(clean(alert.site))} · {when(alert.published)}")]
    blocks += [
        _section(">" + highlight(s, escape, lambda w: f"*{escape(w)}*")) for s in alert.snippets
    ]
    if alert.change:
        blocks.append(_section(_change_text(alert.change)))
    watches = ", ".join(f"*{escape(w)}*" for w in watch_names([alert]))
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Watches: {watches}"}]}
    )
    blocks.append({"type": "divider"})
    return blocks


def _post(head: list[Block], alerts: Sequence[Alert]) -> dict:
    blocks = head + [b for a in alerts for b in story_blocks(a)]
    fallback = head[0]["text"]["text"] + ": " + "; ".join(title_of(a) for a in alerts)
    return {
        "text": escape(clean(fallback, FALLBACK_LIMIT)),
        "blocks": blocks[:-1],  # no divider after the last story
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _chunks(alerts: Sequence[Alert]) -> list[list[Alert]]:
    """Greedy split: as many stories per post as fit the block count and the size budget."""
    chunks: list[list[Alert]] = [[]]
    blocks, size = 1, 500  # the header block and the envelope
    for alert in alerts:
        own = story_blocks(alert)
        own_size = len(json.dumps(own))
        if chunks[-1] and (blocks + len(own) > MAX_BLOCKS or size + own_size > POST_BUDGET):
            chunks.append([])
            blocks, size = 1, 500
        chunks[-1].append(alert)
        blocks, size = blocks + len(own), size + own_size
    return chunks


def _header(text: str) -> Block:
    text = clean(text)
    if len(text) > HEADER_LIMIT:
        text = text[: HEADER_LIMIT - 1] + "…"
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": False}}


def _section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cap(text)}}


def _cap(text: str) -> str:
    """Cut to Slack's section limit without leaving half an escape or half a link."""
    if len(text) <= SECTION_LIMIT:
        return text
    cut = text[: SECTION_LIMIT - 1]
    amp, lt = cut.rfind("&"), cut.rfind("<")
    if amp > cut.rfind(";"):
        cut = cut[:amp]
    if lt > cut.rfind(">"):
        cut = cut[:lt]
    return cut + "…"


def _link(alert: Alert) -> str:
    title = escape(title_of(alert))
    url = clean(alert.url)
    if not url.startswith(("http://", "https://")):
        return title
    # "|" ends the URL part of a Slack link; a literal one must be percent-encoded.
    return f"<{escape(url).replace('|', '%7C')}|{title}>"


def _change_text(change: Change) -> str:
    lines = ["*What changed*"]
    if change.old_title is not None:
        lines.append(f"Title was: ~{escape(clean(change.old_title, 250))}~")
    lines += [f"+ {escape(clean(s))}" for s in change.added]
    if change.more_added:
        lines.append(f"+ … and {change.more_added} more added")
    lines += [f"− {escape(clean(s))}" for s in change.removed]
    if change.more_removed:
        lines.append(f"− … and {change.more_removed} more removed")
    return "\n".join(lines)
