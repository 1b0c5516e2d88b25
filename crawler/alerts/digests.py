"""Scheduled digests: a channel with ``digest: "0 8 * * 1-5"`` holds its story alerts and
sends them as one message at those times.

Whether an alert is held follows from its own ``created_at`` and the schedule alone: it goes
out at the first scheduled time at or after it was queued. Nothing else is stored, so a daemon
that was down at 08:00 sends the 08:00 digest on its first pass after starting (once: every
alert it holds is due, and they go in one message), a changed schedule applies to alerts
already waiting, and a one-off crawl, ``alerts flush`` and the daemon all agree on what is due.
"""

from __future__ import annotations

from datetime import datetime

from apscheduler.triggers.cron import CronTrigger

from crawler.config import ChannelConfig
from crawler.cron import cron_trigger, next_fire
from crawler.timestamps import parse_iso


class DigestSchedule:
    """The times a channel's held alerts go out: its ``digest`` crontab line, in its time
    zone (the host's when none is given)."""

    def __init__(self, cron: str, timezone: str | None = None):
        self.cron = cron
        self.timezone = timezone
        self.trigger: CronTrigger = cron_trigger(cron, timezone=timezone)

    def release(self, queued: datetime) -> datetime | None:
        """When an alert queued at ``queued`` goes out (None: the schedule never fires)."""
        return next_fire(self.trigger, queued)

    def due(self, queued_at: str, now: datetime) -> bool:
        """Whether an alert queued at ``queued_at`` (as stored) is due at ``now``."""
        release = self.release(parse_iso(queued_at))
        return release is not None and release <= now

    def __str__(self) -> str:
        return f"{self.cron!r}" + (f" ({self.timezone})" if self.timezone else "")


def schedule_of(config: ChannelConfig) -> DigestSchedule | None:
    """The channel's digest schedule, if it has one."""
    return DigestSchedule(config.digest, config.timezone) if config.digest else None
