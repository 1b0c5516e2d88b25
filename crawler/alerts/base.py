"""The one small interface every alert channel implements, and what flows through it.

A channel turns alerts into outgoing messages (``compose``) and sends one message at a time
(``send``). Delivery marks the alerts of each message sent as soon as that message is accepted,
so a failure halfway through a split digest never re-sends the parts that already went out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from crawler.db.outbox import NOTICE_KINDS

if TYPE_CHECKING:
    from crawler.alerts.digests import DigestSchedule


class DeliveryError(Exception):
    """A message could not be delivered; the text is safe to show (no secrets).

    ``permanent`` errors (a bad webhook, a refused recipient) will not succeed on retry and
    fail the alert at once; others are retried with backoff. ``retry_after`` is the server's
    own hint in seconds, when it gave one.
    """

    def __init__(self, message: str, permanent: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class UnknownChannelError(DeliveryError):
    """A channel name that is not configured (or not a known channel type)."""

    def __init__(self, message: str):
        super().__init__(message, permanent=True)


@dataclass(frozen=True)
class Change:
    """What a material edit changed between the previous stored version and this one."""

    old_title: str | None  # set only when the title changed
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    more_added: int = 0  # sentences left out of ``added`` to keep the message short
    more_removed: int = 0


@dataclass(frozen=True)
class Alert:
    """One queued alert with everything a message needs, read from the database."""

    id: int
    kind: str  # new | changed | health | recovered | test
    title: str
    site: str
    url: str | None = None
    published: str | None = None
    watches: tuple[str, ...] = ()
    snippets: tuple[str, ...] = ()  # matched words between HIGHLIGHT_OPEN/CLOSE markers
    change: Change | None = None
    message: str | None = None  # the text of a health/recovered notice

    @property
    def is_notice(self) -> bool:
        return self.kind in NOTICE_KINDS


@dataclass(frozen=True)
class Outgoing:
    """One message to send and the alerts it carries."""

    alerts: tuple[Alert, ...]
    body: Any = field(repr=False)  # channel-specific: an EmailMessage, a Slack payload


class Channel(Protocol):
    """An alert channel: email, Slack, Apprise."""

    name: str
    digest: bool  # one message for all the alerts of a pass (True) or one per story (False)
    schedule: DigestSchedule | None  # story alerts wait for these times (a scheduled digest)

    def compose(self, alerts: Sequence[Alert]) -> list[Outgoing]:
        """The messages that carry these alerts, in the channel's mode."""
        ...

    def send(self, message: Outgoing) -> None:
        """Send one message; raise DeliveryError (with no secrets in it) on failure."""
        ...
