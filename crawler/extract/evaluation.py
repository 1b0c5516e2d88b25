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

import gzip
import hashlib
import json
import logging
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)

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
    return metrics_from_scores(
        score_page(body, predictions.get(key, "")) for key, body in truth.items()
    )


# --- running extractors over the data set ----------------------------------------------

Extractor = Callable[[bytes, str], str | None]


@dataclass(frozen=True)
class Page:
    """One benchmark page: its raw bytes as fetched and its true article body."""

    id: str
    url: str
    html: bytes
    truth: str


@dataclass
class Run:
    """One extractor's outputs and timings over a list of pages."""

    name: str
    outputs: dict[str, str] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)

    def metrics(self, pages: Sequence[Page]) -> Metrics:
        return evaluate({p.id: p.truth for p in pages}, self.outputs)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000 if self.seconds else 0.0

    @property
    def mean_ms(self) -> float:
        return statistics.fmean(self.seconds) * 1000 if self.seconds else 0.0


def load_pages(
    directory: Path, limit: int | None = None, ids: Iterable[str] | None = None
) -> list[Page]:
    """Load the data set in ``directory`` (``ground-truth.json`` and ``<id>.html.gz`` files).

    Pages come sorted by id; ``ids`` picks given pages, ``limit`` keeps the first ones.
    """
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth) if ids is None else list(ids)
    if limit is not None:
        keys = keys[:limit]
    return [
        Page(
            id=key,
            url=truth[key].get("url", ""),
            html=gzip.decompress((directory / f"{key}.html.gz").read_bytes()),
            truth=truth[key].get("articleBody", ""),
        )
        for key in keys
    ]


def run_extractors(pages: Sequence[Page], extractors: Mapping[str, Extractor]) -> list[Run]:
    """Run every extractor on every page, timing each call.

    Extractors take turns page by page, so that a change in machine load hits them alike. An
    extractor that raises scores an empty body for that page.
    """
    runs = {name: Run(name) for name in extractors}
    for page in pages:
        for name, extract in extractors.items():
            start = time.perf_counter()
            try:
                text = extract(page.html, page.url) or ""
            except Exception:
                logger.warning("%s failed on %s", name, page.id, exc_info=True)
                text = ""
            runs[name].seconds.append(time.perf_counter() - start)
            runs[name].outputs[page.id] = text
    return list(runs.values())


# --- cross-validation -----------------------------------------------------------------------


def host_of(url: str) -> str:
    """The host of ``url`` without a leading ``www.``: the unit pages are grouped by."""
    host = urlsplit(url).hostname or url
    return host.removeprefix("www.")


def folds(pages: Sequence[Page], k: int = 5) -> list[list[Page]]:
    """Split ``pages`` into ``k`` folds of about equal size, every page of a host in the same
    fold (a rule fitted to one site must not be scored on that site's other pages).

    Deterministic: hosts are dealt, largest group first, to the fold that has fewest pages,
    ties broken by a hash of the host so that the folds do not follow alphabetical order.
    """
    groups: dict[str, list[Page]] = {}
    for page in pages:
        groups.setdefault(host_of(page.url), []).append(page)
    order = sorted(groups, key=lambda h: (-len(groups[h]), _stable_hash(h)))
    result: list[list[Page]] = [[] for _ in range(k)]
    for host in order:
        smallest = min(range(k), key=lambda i: (len(result[i]), i))
        result[smallest].extend(groups[host])
    return result


def _stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# Differences in training F1 below this are noise on a hundred pages.
TIE_F1 = 0.0005


@dataclass(frozen=True)
class FoldResult:
    """One fold of a cross-validation: the candidate chosen on the other folds, its score
    there (``train``) and on this fold (``test``), and every candidate's score on this fold."""

    fold: int
    pages: int
    chosen: str
    train: Metrics
    test: Metrics
    scores: dict[str, Metrics]


def cross_validate(
    runs: Sequence[Run], fold_pages: Sequence[Sequence[Page]], prefer: Sequence[str] = ()
) -> list[FoldResult]:
    """Choose, for each fold, the run with the best F1 on the other folds and score it on
    that fold.

    ``runs`` are candidate configurations already run over every page; ``prefer`` lists
    names in order of simplicity: among runs whose training F1 is within ``TIE_F1`` of the
    best, the first one in ``prefer`` (else the first in ``runs``) is chosen, so that a
    refinement must win by more than noise to be kept.
    """
    rank = {name: i for i, name in enumerate(prefer)}
    results = []
    for index, test_pages in enumerate(fold_pages):
        train_pages = [p for i, f in enumerate(fold_pages) if i != index for p in f]
        train = {run.name: run.metrics(train_pages) for run in runs}
        best = max(m.f1 for m in train.values())
        tied = [run.name for run in runs if train[run.name].f1 >= best - TIE_F1]
        chosen = min(tied, key=lambda n: rank.get(n, len(rank)))
        scores = {run.name: run.metrics(test_pages) for run in runs}
        results.append(
            FoldResult(index, len(test_pages), chosen, train[chosen], scores[chosen], scores)
        )
    return results


# --- metadata -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatedPage:
    """A page of a date set (``dates-dev``): its bytes and its true publication day."""

    id: str
    url: str
    html: bytes
    day: str  # YYYY-MM-DD


def load_dated_pages(directory: Path, limit: int | None = None) -> list[DatedPage]:
    """Load a date set: ``ground-truth.json`` (id -> url, date) and ``html/<id>.html.gz``."""
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    keys = sorted(truth)[:limit]
    return [
        DatedPage(
            id=key,
            url=truth[key].get("url", ""),
            html=gzip.decompress((directory / "html" / f"{key}.html.gz").read_bytes()),
            day=str(truth[key].get("date", "")),
        )
        for key in keys
    ]


def same_day(found: str | None, day: str) -> bool:
    """Whether a stored ``published`` value (ISO time with offset, or a day) has ``day``."""
    return bool(found) and str(found)[:10] == day


def within(found: str | None, true: datetime, tolerance: timedelta) -> bool:
    """Whether a stored ``published`` value states a time within ``tolerance`` of ``true``
    (a bare day or a time without an offset states no instant: False)."""
    if not found or len(found) <= 10:
        return False
    try:
        parsed = datetime.fromisoformat(found)
    except ValueError:
        return False
    return parsed.tzinfo is not None and abs(parsed - true) <= tolerance
