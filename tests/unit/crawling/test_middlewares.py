"""Retry-After as sent by servers: seconds or an HTTP date; anything else is ignored."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.crawling.middlewares import retry_after_seconds

NOW = datetime(2025, 11, 3, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 5 ", 5.0),
        ("Mon, 03 Nov 2025 12:01:30 GMT", 90.0),
        ("Mon, 03 Nov 2025 11:00:00 GMT", 0.0),  # already past: retry now
        ("soon", None),
        ("-5", None),
        ("", None),
    ],
)
def test_retry_after_seconds(value: str, seconds: float | None) -> None:
    assert retry_after_seconds(value, now=NOW) == seconds
