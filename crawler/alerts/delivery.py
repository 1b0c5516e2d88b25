"""Delivering the outbox: every due alert on every configured channel, each exactly once.

Each message is marked sent in its own transaction the moment the channel accepts it, so a
crash can at worst re-send that one message. A transient failure (server down, HTTP 5xx, 429)
ends the pass for that channel and every alert it had left waits with doubling backoff; a
permanent one (bad webhook, refused recipient) fails that message's alerts at once.

A channel with a digest schedule holds its story alerts until their time comes
(``crawler.alerts.digests``); notices and retries are never held, and ``everything``
(``alerts flush``) sends held alerts too.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlite_utils

from crawler.alerts.base import Alert, Channel, DeliveryError, Outgoing, UnknownChannelError
from crawler.alerts.content import MissingStory, load_alert
from crawler.alerts.registry import configured, get_channel
from crawler.alerts.render import when
from crawler.config import Config, parse_interval
from crawler.db import outbox
from crawler.timestamps import parse_iso

__all__ = ["DeliveryError", "DeliveryReport", "UnknownChannelError", "deliver_pending", "send_test"]

logger = logging.getLogger(__name__)

# Longer than a delivery pass can take: a claimed alert stays invisible to other processes.
LEASE = timedelta(minutes=10)


@dataclass
class DeliveryReport:
    """What one delivery pass did; true when it attempted anything."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0  # attempted in this pass, failed, will be retried
    pending: int = 0  # every alert still pending afterwards, due or not
    errors: dict[str, str] = field(default_factory=dict)  # channel -> last error
    # channel -> (alerts its digest schedule holds, when the next of them goes out)
    held: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.sent or self.failed or self.retrying)

    def __str__(self) -> str:
        if not self:
            line = f"alerts: nothing to send ({self.pending} pending)"
        else:
            line = f"alerts: {self.sent} sent, {self.failed} failed, {self.pending} pending"
            line += f" ({'; '.join(self.errors.values())})" if self.errors else ""
        return line + "".join(f"; {held}" for held in self.held_lines())

    def held_lines(self) -> list[str]:
        """One line per channel holding alerts for its digest."""
        return [
            f"{name}: {count} held for the digest at {_local(release)}"
            for name, (count, release) in self.held.items()
        ]


def deliver_pending(
    db: sqlite_utils.Database,
    config: Config,
    now: datetime | None = None,
    *,
    everything: bool = False,
    channels: Collection[str] | None = None,
) -> DeliveryReport:
    """Deliver the due pending alerts on every configured channel (or on ``channels``).

    ``now`` (default: the current time) decides what is due: retries, and digests on a
    schedule. ``everything`` also sends alerts still waiting out a retry backoff or held for
    a scheduled digest (``alerts flush``). An unknown name in ``channels`` raises
    UnknownChannelError before anything is sent.
    """
    now = now or datetime.now(UTC)
    policy = outbox.RetryPolicy(config.alerts.max_attempts, parse_interval(config.alerts.backoff))
    chosen = [get_channel(config, name) for name in channels] if channels else None
    report = DeliveryReport()
    for channel in chosen or configured(config).values():
        _Pass(db, channel, now, policy, report).run(everything)
    report.pending = outbox.count_pending(db)
    return report


def send_test(config: Config, channel_name: str) -> None:
    """Send a sample alert on one channel; raises DeliveryError (UnknownChannelError for a
    channel that is not configured) with a message safe to show."""
    channel = get_channel(config, channel_name)
    for message in channel.compose([sample_alert()]):
        channel.send(message)
    logger.info("%s: test message sent", channel_name)


def sample_alert() -> Alert:
    """A made-up story alert that exercises every part of a message."""
    return Alert(
        id=0,
        kind="test",
        title="newsmon test message: alerts reach this channel",
        site="newsmon",
        url="https://github.com/newsmon/newsmon",
        published=datetime.now(UTC).replace(microsecond=0).isoformat(),
        watches=("test",),
        snippets=("If you can read this, **newsmon** alerts reach this channel.",),
    )


def _local(moment: datetime | None) -> str:
    """A release time as the schedule's own zone writes it: ``2025-11-04 08:00 +01:00``."""
    if moment is None:
        return "no time (the schedule never fires)"
    return when(moment.isoformat())


class _Pass:
    """One channel's share of a delivery pass."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        channel: Channel,
        now: datetime,
        policy: outbox.RetryPolicy,
        report: DeliveryReport,
    ):
        self.db, self.channel, self.now = db, channel, now
        self.policy, self.report = policy, report

    def run(self, everything: bool) -> None:
        ready = None if everything else self._ready
        rows = outbox.claim_due(self.db, self.channel.name, self.now, LEASE, everything, ready)
        alerts = [a for a in (self._load(r) for r in rows) if a is not None]
        if not alerts:
            return
        try:
            messages = self.channel.compose(alerts)
        except DeliveryError as exc:  # e.g. the service's URL is not set
            self._retry([a.id for a in alerts], str(exc), exc.retry_after)
            return
        except Exception as exc:  # a rendering bug must not stop the other channels
            logger.exception("%s: could not compose alerts", self.channel.name)
            self._retry([a.id for a in alerts], self._internal(exc))
            return
        self._send_all(messages)

    def _ready(self, row: dict) -> bool:
        """A digest schedule holds story alerts that were never attempted until their time."""
        schedule = self.channel.schedule
        if schedule is None or row["article_id"] is None or row["attempts"] > 0:
            return True
        if schedule.due(row["created_at"], self.now):
            return True
        count, first = self.report.held.get(self.channel.name, (0, None))
        release = schedule.release(parse_iso(row["created_at"]))
        if first is not None and release is not None:
            release = min(first, release)
        self.report.held[self.channel.name] = (count + 1, release or first)
        return False

    def _load(self, row: dict) -> Alert | None:
        try:
            return load_alert(self.db, row)
        except MissingStory as exc:
            self._fail([row["id"]], f"{self.channel.name}: {exc}")
            return None

    def _send_all(self, messages: Sequence[Outgoing]) -> None:
        for i, message in enumerate(messages):
            ids = [a.id for a in message.alerts]
            try:
                self.channel.send(message)
            except DeliveryError as exc:
                if exc.permanent:
                    self._fail(ids, str(exc))
                    continue
                # The channel is down: the rest of this pass would fail the same way.
                rest = [a.id for m in messages[i:] for a in m.alerts]
                self._retry(rest, str(exc), exc.retry_after)
                return
            except Exception as exc:  # a bug in a channel must not lose or repeat alerts
                logger.exception("%s: unexpected error while sending", self.channel.name)
                self._retry([a.id for m in messages[i:] for a in m.alerts], self._internal(exc))
                return
            outbox.mark_sent(self.db, ids, self.now)
            self.report.sent += len(ids)
            logger.info("%s: sent %d alert(s)", self.channel.name, len(ids))

    def _fail(self, ids: list[int], error: str) -> None:
        logger.error("%s (given up)", error)
        outbox.mark_failed(self.db, ids, error)
        self.report.failed += len(ids)
        self.report.errors[self.channel.name] = error

    def _retry(self, ids: list[int], error: str, retry_after: float | None = None) -> None:
        logger.warning("%s (will retry)", error)
        failed, pending = outbox.mark_retry(self.db, ids, error, self.now, self.policy, retry_after)
        self.report.failed += failed
        self.report.retrying += pending
        self.report.errors[self.channel.name] = error

    def _internal(self, exc: Exception) -> str:
        return f"{self.channel.name}: internal error: {type(exc).__name__}"
