"""The order a capped run fetches stories in: newest first, and the same whatever order the
sources answered in."""

from __future__ import annotations

from spiders.base import NewsSpider, Wanted


def entry(url: str, published: str | None) -> tuple[str, Wanted, None]:
    return (url, Wanted({"published": published} if published else {}, True, False), None)


def test_newest_first_undated_last_and_ties_broken_by_url() -> None:
    entries = [
        entry("https://s.example/b", "2025-11-03T10:00:00+00:00"),
        entry("https://s.example/about", None),
        entry("https://s.example/a", "2025-11-03T10:00:00+00:00"),
        entry("https://s.example/new", "2025-11-03T12:00:00+00:00"),
        entry("https://s.example/odd", "not a date"),
    ]
    order = [url for url, _, _ in sorted(entries, key=lambda e: NewsSpider._age(None, e))]  # type: ignore[arg-type]
    assert order == [
        "https://s.example/new",
        "https://s.example/a",
        "https://s.example/b",
        "https://s.example/about",
        "https://s.example/odd",
    ]
    again = [u for u, _, _ in sorted(reversed(entries), key=lambda e: NewsSpider._age(None, e))]  # type: ignore[arg-type]
    assert again == order
