"""Article-body extraction quality and speed on the article-extraction benchmark (a script).

Runs ``crawler.extract.body.extract_body`` over every page of the data set, next to plain
trafilatura (default settings, and with ``include_comments=False``) in the same run, and prints
precision, recall, F1 (the benchmark's metric, ``crawler.extract.evaluation``) and the median time
per page of each, then the ratio of median times newsmon / plain trafilatura.

    .venv/bin/python bench/extraction.py                 # ../shared/data/aeb-dev
    .venv/bin/python bench/extraction.py --limit 20 --data /path/to/set
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import trafilatura

from crawler.extract.body import extract_body
from crawler.extract.evaluation import Run, load_pages, run_extractors

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = (ROOT / "../shared/data/aeb-dev").resolve()


def _plain(html: bytes, url: str) -> str | None:
    return trafilatura.extract(html)


def _no_comments(html: bytes, url: str) -> str | None:
    return trafilatura.extract(html, include_comments=False)


EXTRACTORS = {
    "newsmon extract_body": extract_body,
    "trafilatura default": _plain,
    "trafilatura include_comments=False": _no_comments,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="data set directory")
    parser.add_argument("--limit", type=int, help="only the first N pages (sorted by id)")
    args = parser.parse_args()
    # Extractors log a warning for every page they find no article in; the table is the output.
    logging.basicConfig(level=logging.ERROR)
    pages = load_pages(args.data, args.limit)
    runs = run_extractors(pages, EXTRACTORS)
    print(f"{len(pages)} pages from {args.data}\n")
    print(f"{'extractor':<36} {'precision':>9} {'recall':>7} {'F1':>7} {'median ms':>10}")
    for run in runs:
        m = run.metrics(pages)
        scores = f"{m.precision:>9.4f} {m.recall:>7.4f} {m.f1:>7.4f}"
        print(f"{run.name:<36} {scores} {run.median_ms:>10.1f}")
    print(f"\nmedian time ratio newsmon / plain trafilatura: {_ratio(runs[0], runs[1]):.2f}x")


def _ratio(ours: Run, plain: Run) -> float:
    return ours.median_ms / plain.median_ms if plain.median_ms else float("inf")


if __name__ == "__main__":
    main()
