"""The article-extraction benchmark metric (scrapinghub/article-extraction-benchmark).

Text is tokenized with ``\\w+``; each page's true and predicted bodies become multisets of
4-token shingles; per page the true positives, false positives and false negatives are counted
and normalised to sum 1. Precision is the mean over pages with ``tp + fp > 0``, recall the mean
over pages with ``tp + fn > 0``; a page with ``fp == fn == 0`` scores 1 on both; F1 is the
harmonic mean of those two means. Edge cases follow the benchmark's evaluate.py: a text with
fewer than four tokens is one shorter shingle, an empty text has no shingle, and a page where
both texts are empty counts towards neither mean.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import NamedTuple

SHINGLE_SIZE = 4

_TOKEN_RE = re.compile(r"\w+")


class PageScore(NamedTuple):
    """Shingle counts of one page, normalised so that ``tp + fp + fn`` is 1 (or all are 0)."""

    tp: float
    fp: float
    fn: float


class Metrics(NamedTuple):
    """Benchmark-level scores."""

    precision: float
    recall: float
    f1: float


def tokenize(text: str | None) -> list[str]:
    """Split ``text`` into ``\\w+`` tokens, as the benchmark does (case is kept)."""
    return _TOKEN_RE.findall(text or "")


def shingles(text: str | None, size: int = SHINGLE_SIZE) -> Counter[tuple[str, ...]]:
    """Return the multiset of ``size``-token shingles of ``text``.

    A text shorter than ``size`` tokens yields a single shorter shingle, an empty text none.
    """
    tokens = tokenize(text)
    if not tokens:
        return Counter()
    count = max(1, len(tokens) - size + 1)
    return Counter(tuple(tokens[i : i + size]) for i in range(count))


def score_page(true: str | None, pred: str | None, size: int = SHINGLE_SIZE) -> PageScore:
    """Count matching and non-matching shingles of one page, normalised to sum 1."""
    true_shingles = shingles(true, size)
    pred_shingles = shingles(pred, size)
    tp = float(sum((true_shingles & pred_shingles).values()))
    fp = float(sum((pred_shingles - true_shingles).values()))
    fn = float(sum((true_shingles - pred_shingles).values()))
    total = tp + fp + fn
    if total == 0:
        return PageScore(0.0, 0.0, 0.0)
    return PageScore(tp / total, fp / total, fn / total)


def precision_score(page: PageScore) -> float:
    """Precision of one page; 1 when nothing was wrong, 0 when nothing was right."""
    if page.fp == page.fn == 0:
        return 1.0
    if page.tp == page.fp == 0:
        return 0.0
    return page.tp / (page.tp + page.fp)


def recall_score(page: PageScore) -> float:
    """Recall of one page; 1 when nothing was wrong, 0 when nothing was right."""
    if page.fp == page.fn == 0:
        return 1.0
    if page.tp == page.fn == 0:
        return 0.0
    return page.tp / (page.tp + page.fn)


def metrics_from_scores(scores: Iterable[PageScore]) -> Metrics:
    """Average per-page scores into precision, recall and F1.

    With no page that counts towards a mean (for instance an empty input) that mean is 0.
    """
    scores = list(scores)
    precisions = [precision_score(s) for s in scores if s.tp + s.fp > 0]
    recalls = [recall_score(s) for s in scores if s.tp + s.fn > 0]
    precision = statistics.fmean(precisions) if precisions else 0.0
    recall = statistics.fmean(recalls) if recalls else 0.0
    denominator = precision + recall
    f1 = 2 * precision * recall / denominator if denominator else 0.0
    return Metrics(precision, recall, f1)


def evaluate(truth: Mapping[str, str], predictions: Mapping[str, str]) -> Metrics:
    """Score ``predictions`` (page id -> extracted body) against ``truth`` (id -> true body).

    Every id of ``truth`` is scored; a missing prediction counts as an empty extraction.
    """
    return metrics_from_scores(score_page(body, predictions.get(key, "")) for key, body in truth.items())
