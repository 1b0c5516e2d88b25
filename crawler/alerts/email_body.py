"""The text and HTML bodies of an alert mail (one story, a digest, or a notice).

Article text is untrusted: in the text part it is folded to single lines, in the HTML part
every piece is ``html.escape``d, so a title shows as written and can never add markup.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from crawler.alerts.base import Alert, Change
from crawler.alerts.render import APP, clean, highlight, label, title_of, watch_names, when

_FOOTER = f"Sent by {APP}."


def text_body(alerts: Sequence[Alert]) -> str:
    """The plain-text part; matched words are shown between ** markers."""
    parts = [_text_intro(alerts)] if len(alerts) > 1 else []
    parts += [_text_one(a) for a in alerts]
    return "\n\n".join(parts) + f"\n\n-- \n{_FOOTER}\n"


def html_body(alerts: Sequence[Alert]) -> str:
    """The HTML part; matched words are wrapped in <mark>."""
    intro = f"<p><strong>{html.escape(_text_intro(alerts))}</strong></p>" if len(alerts) > 1 else ""
    items = "<hr>".join(_html_one(a) for a in alerts)
    return (
        '<!DOCTYPE html><html><body style="font-family:sans-serif;line-height:1.4">'
        f'{intro}{items}<p style="color:#777">{html.escape(_FOOTER)}</p></body></html>\n'
    )


def _text_intro(alerts: Sequence[Alert]) -> str:
    return f"{len(alerts)} stories matching {', '.join(watch_names(alerts))}"


def _text_one(alert: Alert) -> str:
    if alert.is_notice:
        return f"{label(alert)}: {clean(alert.site)}\n{clean(alert.message)}"
    lines = [
        f"{label(alert)}: {title_of(alert)}",
        f"Site: {clean(alert.site)}   Published: {when(alert.published)}",
        f"Watches: {', '.join(watch_names([alert]))}",
    ]
    lines += [f"  {highlight(s, str, lambda w: f'**{w}**')}" for s in alert.snippets]
    if alert.change:
        lines += _text_change(alert.change, title_of(alert))
    lines.append(f"Link: {clean(alert.url)}")
    return "\n".join(lines)


def _text_change(change: Change, title: str) -> list[str]:
    lines = ["What changed:"]
    if change.old_title is not None:
        lines += [f"  Title was: {clean(change.old_title, 250)}", f"  Title now: {title}"]
    lines += [f"  + {clean(s)}" for s in change.added]
    if change.more_added:
        lines.append(f"  + ... and {change.more_added} more added")
    lines += [f"  - {clean(s)}" for s in change.removed]
    if change.more_removed:
        lines.append(f"  - ... and {change.more_removed} more removed")
    return lines


def _html_one(alert: Alert) -> str:
    e = html.escape
    if alert.is_notice:
        return f"<h3>{e(label(alert))}: {e(clean(alert.site))}</h3><p>{e(clean(alert.message))}</p>"
    title = e(title_of(alert))
    url = clean(alert.url)
    heading = (
        f'<a href="{e(url)}">{title}</a>' if url.startswith(("http://", "https://")) else title
    )
    parts = [
        f'<p style="color:#777;margin-bottom:0">{e(label(alert))}</p>',
        f'<h3 style="margin-top:0">{heading}</h3>',
        f"<p>{e(clean(alert.site))} &middot; {e(when(alert.published))} &middot; "
        f"watches: <strong>{e(', '.join(watch_names([alert])))}</strong></p>",
    ]
    parts += [
        f"<blockquote>{highlight(s, e, lambda w: f'<mark>{e(w)}</mark>')}</blockquote>"
        for s in alert.snippets
    ]
    if alert.change:
        parts.append(_html_change(alert.change, title))
    parts.append(f'<p><a href="{e(url)}">{e(url)}</a></p>' if url else "")
    return "".join(parts)


def _html_change(change: Change, title: str) -> str:
    e = html.escape
    rows = []
    if change.old_title is not None:
        rows.append(
            f"<li>Title was: <del>{e(clean(change.old_title, 250))}</del>, "
            f"now: <ins>{title}</ins></li>"
        )
    rows += [f"<li>Added: <ins>{e(clean(s))}</ins></li>" for s in change.added]
    if change.more_added:
        rows.append(f"<li>... and {change.more_added} more added</li>")
    rows += [f"<li>Removed: <del>{e(clean(s))}</del></li>" for s in change.removed]
    if change.more_removed:
        rows.append(f"<li>... and {change.more_removed} more removed</li>")
    return f"<p><strong>What changed</strong></p><ul>{''.join(rows)}</ul>"
