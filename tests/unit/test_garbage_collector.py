"""The collector's settings for crawl processes and extraction workers."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from crawler.garbage_collector import YOUNG_THRESHOLD, tune_for_throughput


@pytest.fixture
def restored() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


def test_young_collections_are_rarer_and_older_generations_keep_their_ratios(
    restored: None,
) -> None:
    gc.set_threshold(700, 10, 10)
    tune_for_throughput()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
    assert gc.get_freeze_count() == 0


def test_a_worker_freezes_what_it_imported(restored: None) -> None:
    tune_for_throughput(freeze=True)
    assert gc.get_freeze_count() > 1000
    garbage: list[object] = []
    garbage.append(garbage)  # a cycle made after the freeze is still collected
    del garbage
    assert gc.collect() >= 1
