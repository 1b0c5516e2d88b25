"""Crontab lines as cron reads them, for site schedules and scheduled alert digests.

APScheduler 3 numbers weekdays from Monday = 0, so cron's "1" (Monday) would fire on Tuesdays;
the day-of-week field is therefore rewritten as day names, which both agree on.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from apscheduler.triggers.cron import CronTrigger

_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def cron_trigger(
    expression: str, jitter: float | None = None, timezone: tzinfo | str | None = None
) -> CronTrigger:
    """A five-field crontab expression as a trigger, in ``timezone`` (default: the host's)."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"give five fields (minute hour day month weekday), not {len(fields)}")
    minute, hour, day, month, weekdays = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=cron_weekdays(weekdays),
        jitter=jitter,
        timezone=timezone,
    )


def cron_weekdays(field: str) -> str:
    """Cron's day-of-week field (0 or 7 = Sunday; lists, ranges, steps, names) as a list of
    day names."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for item in field.lower().split(","):
        span, _, step = item.partition("/")
        if span == "*":
            low, high = 0, 6
        elif "-" in span:
            first, last = span.split("-", 1)
            low, high = _day_number(first), _day_number(last)
        else:
            low = _day_number(span)
            high = 7 if step else low  # "1/2" is "from Monday, every other day"
        days.update(d % 7 for d in range(low, high + 1, int(step or 1)))
    return ",".join(_DAY_NAMES[d] for d in sorted(days))


def next_fire(trigger: CronTrigger, moment: datetime) -> datetime | None:
    """The trigger's first time at or after ``moment`` (None: never again)."""
    return trigger.get_next_fire_time(None, moment)


def _day_number(token: str) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token[:3] in _DAY_NAMES:
        return _DAY_NAMES.index(token[:3])
    raise ValueError(f"bad day of week {token!r}")
