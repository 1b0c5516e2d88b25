"""The Slack channel: Block Kit posts to an incoming webhook.

The webhook URL is a secret (whoever has it can post), so errors and logs name only its host.
A bad, revoked or archived webhook (403/404/410, ``invalid_token``, ``no_service``) fails the
alert at once; 429, 5xx and connection errors are retried with backoff.
"""

from __future__ import annotations

import http.client
import json
import logging
from collections.abc import Sequence
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from crawler.alerts.base import Alert, DeliveryError, Outgoing
from crawler.alerts.digests import schedule_of
from crawler.alerts.slack_blocks import payloads
from crawler.config import SlackChannel as SlackConfig
from crawler.safe_text import one_line

logger = logging.getLogger(__name__)

# Slack's answers that mean the webhook itself is gone or wrong: retrying cannot help.
PERMANENT_REPLIES = {
    "invalid_token",
    "no_service",
    "no_service_id",
    "no_team",
    "team_disabled",
    "channel_not_found",
    "channel_is_archived",
    "action_prohibited",
    "no_active_hooks",
    "posting_to_general_channel_denied",
}
BAD_WEBHOOK = {403, 404, 410}


class SlackChannel:
    """Alerts posted to a Slack incoming webhook, one post per story or a split digest."""

    def __init__(self, config: SlackConfig, name: str = "slack"):
        self.name = name
        self.config = config
        self.digest = config.is_digest
        self.schedule = schedule_of(config)

    def compose(self, alerts: Sequence[Alert]) -> list[Outgoing]:
        """Posts for these alerts; notices always go alone."""
        stories = [a for a in alerts if not a.is_notice]
        posts = payloads([a for a in alerts if a.is_notice], digest=False)
        posts += payloads(stories, digest=self.digest) if stories else []
        return [Outgoing(carried, body) for carried, body in posts]

    def send(self, message: Outgoing) -> None:
        """Post one payload; DeliveryError (naming only the webhook's host) on failure."""
        url = self._url()
        host = urlsplit(url).netloc.rpartition("@")[2]
        request = Request(
            url,
            data=json.dumps(message.body).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8", "User-Agent": "newsmon"},
            method="POST",
        )
        try:
            with urlopen(request, timeout=self.config.timeout) as response:
                response.read(1000)
        except HTTPError as exc:
            with exc:
                reply = exc.read(500).decode("utf-8", "replace")
            reply = self._safe(reply, url, 100)
            raise self._http_error(exc.code, reply, exc.headers.get("Retry-After"), host) from None
        except (URLError, OSError, http.client.HTTPException) as exc:
            reason = exc.reason if isinstance(exc, URLError) else exc
            detail = self._safe(reason, url)
            raise DeliveryError(f"{self.name}: {host}: {detail}") from None

    def _url(self) -> str:
        url = self.config.url()
        if not url:
            raise DeliveryError(
                f"{self.name}: webhook URL not set: environment variable "
                f"{self.config.webhook_url_env} is empty"
            )
        try:
            parts = urlsplit(url)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:  # its message would quote the URL
            ok = False
        if not ok:
            raise DeliveryError(f"{self.name}: the webhook URL is not an http(s) URL")
        return url

    def _http_error(
        self, status: int, reply: str, retry_after: str | None, host: str
    ) -> DeliveryError:
        where = f"{self.name}: HTTP {status} from {host}" + (f": {reply}" if reply else "")
        if status in BAD_WEBHOOK or reply in PERMANENT_REPLIES:
            hint = "the webhook URL is wrong, revoked, or its channel is gone"
            return DeliveryError(f"{where} (permanent: {hint})", permanent=True)
        if status == 429 or status >= 500 or status == 408:
            return DeliveryError(where, retry_after=_seconds(retry_after))
        return DeliveryError(f"{where} (permanent: Slack rejected the message)", permanent=True)

    def _safe(self, reason: object, url: str, limit: int = 200) -> str:
        """One line of server or exception text with the webhook URL (and its path) cut out."""
        text = str(reason).replace(url, "[webhook]")
        path = urlsplit(url).path
        if len(path) > 1:
            text = text.replace(path, "/[redacted]")
        return one_line(text, limit) or ("" if isinstance(reason, str) else type(reason).__name__)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
