"""Times as newsmon stores them: ISO 8601 in UTC with an explicit offset, to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> str:
    """Now, as stored."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """An aware datetime as stored (naive ones are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_iso(value: str) -> datetime:
    """A stored (or source-given) ISO 8601 time as an aware datetime; one without an offset is
    taken as UTC, and a trailing ``Z`` is understood."""
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
