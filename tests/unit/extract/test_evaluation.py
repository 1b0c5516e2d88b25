"""Cross-validation helpers of the extraction benchmark."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crawler.extract.evaluation import (
    Page,
    Run,
    cross_validate,
    folds,
    host_of,
    same_day,
    within,
)


def pages(hosts: list[str]) -> list[Page]:
    return [
        Page(f"p{i}", f"https://www.{h}/story/{i}", b"", "a b c d e") for i, h in enumerate(hosts)
    ]


def test_folds_keep_a_hosts_pages_together_and_are_balanced() -> None:
    items = pages(["a.com", "a.com", "b.com", "c.com", "d.com", "e.com", "e.com", "f.com"])
    split = folds(items, 3)
    assert sorted(len(f) for f in split) == [2, 3, 3]
    for host in ("a.com", "e.com"):
        assert sum(any(host_of(p.url) == host for p in f) for f in split) == 1
    assert folds(items, 3) == split  # deterministic


def test_cross_validation_chooses_on_the_other_folds_and_prefers_the_first_on_ties() -> None:
    items = pages(["a.com", "b.com", "c.com", "d.com"])
    split = folds(items, 2)
    good = Run("good", {p.id: p.truth for p in items})
    # "lucky" is right only on the first fold: chosen nowhere, since on the first fold it is
    # judged by the second, where it fails.
    lucky = Run("lucky", {p.id: p.truth if p in split[0] else "x y z w" for p in items})
    same = Run("same", dict(good.outputs))
    results = cross_validate([lucky, same, good], split, prefer=["good", "same"])
    assert [r.chosen for r in results] == ["good", "good"]
    assert all(r.test.f1 == 1.0 for r in results)
    assert results[1].scores["lucky"].f1 < 1.0


def test_day_and_time_comparisons() -> None:
    true = datetime(2023, 11, 8, 22, 28, tzinfo=UTC) - timedelta(hours=-5)
    assert same_day("2023-11-08T22:28:35-05:00", "2023-11-08")
    assert same_day("2023-11-08", "2023-11-08") and not same_day(None, "2023-11-08")
    assert within("2023-11-09T03:29:00+00:00", datetime(2023, 11, 9, 3, 28, tzinfo=UTC),
                  timedelta(minutes=2))  # fmt: skip
    assert not within("2023-11-08", true, timedelta(minutes=2))
    assert not within("2023-11-08T22:28:00", true, timedelta(minutes=2))
