"""The Apprise channel: any of Apprise's services (Teams, Telegram, Discord, Mattermost, ntfy,
Matrix, JSON and form webhooks, mail, ...) by its Apprise URL.

Apprise is an optional extra (``pip install 'newsmon[apprise]'``), imported only when an
Apprise channel composes or sends. The URL usually holds a token, so it is read from the
environment when needed, never logged, and cut out of every error: Apprise's own log lines
are captured (not passed on to newsmon's log) and reported with every part of the URL that
may be secret replaced. Apprise tells only whether a send worked, not why it failed in a
form worth trusting, so every failed send is retried with backoff until ``max_attempts``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from crawler.alerts import apprise_body
from crawler.alerts.base import Alert, DeliveryError, Outgoing
from crawler.alerts.digests import schedule_of
from crawler.config import AppriseChannel as AppriseConfig
from crawler.safe_text import one_line

logger = logging.getLogger(__name__)

# Room left in a service's body limit for the digest's intro, title and separators.
LIMIT_MARGIN = 500


@dataclass(frozen=True)
class Service:
    """What composing needs to know of the service behind the URL."""

    name: str  # Apprise's name for it: "JSON", "Discord", "E-Mail", ...
    format: str  # apprise_body.MARKDOWN or TEXT
    titled: bool  # the service has a title field of its own
    limit: int  # longest body it takes (0: no limit)


class AppriseChannel:
    """Alerts sent through Apprise: one message per story, or a digest split to fit."""

    def __init__(self, config: AppriseConfig, name: str = "apprise"):
        self.name = name
        self.config = config
        self.digest = config.is_digest
        self.schedule = schedule_of(config)

    def compose(self, alerts: Sequence[Alert]) -> list[Outgoing]:
        """Messages for these alerts in the service's format; notices always go alone."""
        service = self.service()
        stories = [a for a in alerts if not a.is_notice]
        groups = _chunks(stories, service) if self.digest and stories else [[a] for a in stories]
        out = [self._message([a], service) for a in alerts if a.is_notice]
        for i, group in enumerate(groups, 1):
            part = f" (part {i} of {len(groups)})" if len(groups) > 1 and self.digest else ""
            out.append(self._message(group, service, part))
        return out

    def _message(self, alerts: Sequence[Alert], service: Service, part: str = "") -> Outgoing:
        body = apprise_body.compose(alerts, service.format, service.titled, part)
        return Outgoing(tuple(alerts), body)

    def service(self) -> Service:
        """The service the configured URL names; DeliveryError when there is none."""
        plugin = self._plugin(self._url())
        return Service(
            name=str(plugin.service_name),
            format=_format_for(plugin),
            titled=int(getattr(plugin, "title_maxlen", 0) or 0) > 0,
            limit=int(getattr(plugin, "body_maxlen", 0) or 0),
        )

    def send(self, message: Outgoing) -> None:
        """Send one message; DeliveryError (with nothing of the URL in it) on failure."""
        import apprise

        url = self._url()
        plugin = self._plugin(url)
        body: apprise_body.Body = message.body
        notifier = apprise.Apprise()
        notifier.add(plugin)
        with _captured() as log:
            ok = notifier.notify(body=body.body, title=body.title, body_format=body.format)
        if not ok:
            detail = _redact(_last_lines(log.getvalue()), url)
            raise DeliveryError(f"{self.name}: {plugin.service_name}: {detail or 'not delivered'}")

    def _url(self) -> str:
        url = self.config.apprise_url()
        if not url:
            raise DeliveryError(
                f"{self.name}: Apprise URL not set: environment variable "
                f"{self.config.url_env} is empty"
            )
        return url

    def _plugin(self, url: str) -> Any:
        try:
            import apprise
        except ImportError:
            raise DeliveryError(
                f"{self.name}: the Apprise library is not installed: pip install 'newsmon[apprise]'"
            ) from None
        with _captured():
            plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            scheme = url.partition("://")[0] if "://" in url else "?"
            raise DeliveryError(
                f"{self.name}: Apprise cannot use this URL (scheme {one_line(scheme, 20)!r}): "
                "unknown service or missing parts"
            )
        return plugin


def _format_for(plugin: Any) -> str:
    """Markdown if the service renders Markdown or HTML (Apprise converts), else text.

    Apprise 2 plugins may take several formats and pick one (a URL's ``?format=`` wins);
    earlier releases name one.
    """
    resolve = getattr(plugin, "resolve_format", None)
    fmt = resolve("markdown") if callable(resolve) else plugin.notify_format
    value = str(getattr(fmt, "value", fmt))
    return apprise_body.TEXT if value == "text" else apprise_body.MARKDOWN


def _chunks(alerts: Sequence[Alert], service: Service) -> list[list[Alert]]:
    """Greedy split of a digest: as many stories per message as fit the service's limit."""
    if service.limit <= 0:
        return [list(alerts)]
    budget = max(service.limit - LIMIT_MARGIN, 1)
    chunks: list[list[Alert]] = [[]]
    size = 0
    for alert in alerts:
        own = len(apprise_body.compose([alert], service.format, True).body)
        if chunks[-1] and size + own > budget:
            chunks.append([])
            size = 0
        chunks[-1].append(alert)
        size += own
    return chunks


@contextmanager
def _captured() -> Iterator[Any]:
    """Apprise's log lines of one call, kept from newsmon's log (they may name the URL)."""
    import apprise

    _quiet(logging.getLogger(apprise.logger.name))
    with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as log:
        yield log


def _quiet(apprise_logger: logging.Logger) -> None:
    """Apprise's own log lines (which may hold the URL at DEBUG) never reach newsmon's log,
    nor Python's last-resort stderr handler."""
    apprise_logger.propagate = False
    if not any(isinstance(h, logging.NullHandler) for h in apprise_logger.handlers):
        apprise_logger.addHandler(logging.NullHandler())


def _last_lines(text: str, count: int = 2) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return "; ".join(lines[-count:])


def _redact(text: str, url: str) -> str:
    """One line of Apprise's text with the URL and each of its possibly secret parts cut."""
    for secret in _secrets(url):
        text = text.replace(secret, "[redacted]")
    return one_line(text, 300)


def _secrets(url: str) -> list[str]:
    """The URL and its parts that may be tokens: user, password, a host that is not a host
    name (``tgram://BOT_TOKEN/...``), path segments, query values, fragment; longest first."""
    found = {url}
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if "." in host or host == "localhost":
            found.update([parts.username or "", parts.password or ""])
        else:
            found.add(parts.netloc)
        found.update(parts.path.split("/"))
        found.update(value for _, value in parse_qsl(parts.query))
        found.add(parts.fragment)
    except ValueError:  # not even a URL: nothing but the whole of it can be recognised
        pass
    found |= {unquote(f) for f in found}
    return sorted((f for f in found if len(f) >= 4), key=len, reverse=True)
