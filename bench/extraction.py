"""Extraction quality and speed, in one run (a script): bodies, dates, titles, authors.

1. Bodies on the article-extraction benchmark (``../shared/data/aeb-dev``), cross-validated:
   pages are split into folds by host; for each fold, the newsmon configuration
   (``BodyOptions``: the shipped one and each step switched off or retuned) with the best
   F1 on the other folds is scored on that fold, next to trafilatura's configurations on
   the same fold. Then every extractor on all pages, with the time per page.
2. The site profile on the benchmark's sites that have two pages: each page extracted with
   the profile learned from the site's other page; then bodies on dates-dev pages (never
   used for body work) whose JSON-LD gives the article body, as a silver truth.
3. Publication days on ``../shared/data/dates-dev`` against htmldate in the same run.
4. Titles of aeb-dev and dates-dev pages: none may keep an entity or a part naming the site.
5. The replica sites (``replica/``): title, author, day, time and body of every story
   against the replica's own data, generic extraction without and with the site profile
   learned as the stories come, and with the site's spider rules.

    .venv/bin/python bench/extraction.py
    .venv/bin/python bench/extraction.py --folds 5 --data /path/to/aeb --dates /path/to/dates
"""

from __future__ import annotations

import argparse
import importlib
import logging
import re
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import htmldate
import trafilatura

from crawler.extract.article import SiteRules, extract_article
from crawler.extract.body import DEFAULT_OPTIONS, BodyOptions, extract_body
from crawler.extract.evaluation import (
    DatedPage,
    Page,
    Run,
    cross_validate,
    evaluate,
    folds,
    host_of,
    load_dated_pages,
    load_pages,
    run_extractors,
    same_day,
    within,
)
from crawler.extract.html import decode_html, parse_html
from crawler.extract.jsonld import article_object, json_ld_objects, text_value
from crawler.extract.metadata import page_metadata
from crawler.extract.site_profile import SiteProfile
from crawler.extract.titles import SEPARATORS, names_site
from replica import sites
from replica.base import ReplicaSite

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = (ROOT / "../shared/data/aeb-dev").resolve()
DEFAULT_DATES = (ROOT / "../shared/data/dates-dev").resolve()

# Candidate configurations, the shipped one first: it wins ties, so a change must beat it
# by more than noise on the folds it did not see.
CANDIDATES: dict[str, BodyOptions] = {
    "shipped": DEFAULT_OPTIONS,
    "no recovery": replace(DEFAULT_OPTIONS, recover=False),
    "recover below 0.5": replace(DEFAULT_OPTIONS, recover_below=0.5),
    "widgets even with prose": replace(DEFAULT_OPTIONS, widget_max_prose=10**6),
    "no widget removal": replace(DEFAULT_OPTIONS, drop_widgets=False),
    "balanced mode only": replace(DEFAULT_OPTIONS, precision_first=False),
    "no embed rescue": replace(DEFAULT_OPTIONS, rescue_embeds=False),
    "no headline removal": replace(DEFAULT_OPTIONS, drop_headline=False),
    "no link lists removal": replace(DEFAULT_OPTIONS, drop_link_lists=False),
    "no promo removal": replace(DEFAULT_OPTIONS, drop_promos=False),
    "no edge metadata removal": replace(DEFAULT_OPTIONS, drop_meta_edges=False),
    "never give up on links": replace(DEFAULT_OPTIONS, max_link_share=1.01),
}
TRAFILATURA: dict[str, Callable[[bytes, str], str | None]] = {
    "trafilatura default": lambda html, url: trafilatura.extract(html),
    "trafilatura include_comments=False": lambda html, url: trafilatura.extract(
        html, include_comments=False
    ),
    "trafilatura favor_precision": lambda html, url: trafilatura.extract(
        html, include_comments=False, favor_precision=True
    ),
    "trafilatura favor_recall": lambda html, url: trafilatura.extract(
        html, include_comments=False, favor_recall=True
    ),
}
REFERENCE = "trafilatura include_comments=False"
_SILVER_MIN_CHARS = 400  # the time per page is compared with it
_ENTITY_RE = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z][a-z0-9]+);", re.IGNORECASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="article data set")
    parser.add_argument("--dates", type=Path, default=DEFAULT_DATES, help="date data set")
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds")
    parser.add_argument("--limit", type=int, help="only the first N pages of each set")
    args = parser.parse_args()
    # Extractors log a warning for every page they find no article in; the tables are the output.
    logging.basicConfig(level=logging.ERROR)
    pages = load_pages(args.data, args.limit)
    bodies(pages, args.folds)
    profiles_on_pairs(pages)
    dated = load_dated_pages(args.dates, args.limit)
    silver_bodies(dated)
    publication_days(dated)
    titles(pages, dated)
    replicas(replica_pages())


# --- 1. bodies ------------------------------------------------------------------------------


def bodies(pages: Sequence[Page], k: int) -> None:
    extractors: dict[str, Callable[[bytes, str], str | None]] = {
        name: _newsmon(options) for name, options in CANDIDATES.items()
    }
    extractors.update(TRAFILATURA)
    runs = {run.name: run for run in run_extractors(pages, extractors)}
    ours = [runs[name] for name in CANDIDATES]
    theirs = [runs[name] for name in TRAFILATURA]
    fold_pages = folds(pages, k)
    print(f"1. Bodies: {len(pages)} pages, {k} folds grouped by host (newsmon's configuration")
    print("   chosen on the other folds; trafilatura's best configuration on the fold itself)\n")
    print(f"{'fold':>4} {'pages':>5}  {'chosen':<26} {'newsmon':>8} {'trafilatura best':>17}  lead")
    for result in cross_validate(ours, fold_pages, prefer=list(CANDIDATES)):
        best = max(theirs, key=lambda run: run.metrics(fold_pages[result.fold]).f1)
        best_f1 = best.metrics(fold_pages[result.fold]).f1
        lead = result.test.f1 - best_f1
        print(
            f"{result.fold:>4} {result.pages:>5}  {result.chosen:<26} {result.test.f1:>8.4f} "
            f"{best_f1:>8.4f} {best.name.removeprefix('trafilatura '):<8} {lead:+.4f}"
        )
    print(f"\n{'extractor (all pages)':<36} {'precision':>9} {'recall':>7} {'F1':>7} "
          f"{'median ms':>10} {'mean ms':>8}")  # fmt: skip
    for run in [runs["shipped"], *theirs]:
        m = run.metrics(pages)
        print(
            f"{run.name:<36} {m.precision:>9.4f} {m.recall:>7.4f} {m.f1:>7.4f} "
            f"{run.median_ms:>10.1f} {run.mean_ms:>8.1f}"
        )
    shipped, reference = runs["shipped"], runs[REFERENCE]
    print(
        f"\ntime per page newsmon / {REFERENCE}: median {_ratio(shipped, reference, True):.2f}x, "
        f"mean {_ratio(shipped, reference, False):.2f}x\n"
    )


def _newsmon(options: BodyOptions) -> Callable[[bytes, str], str | None]:
    return lambda html, url: extract_body(html, url, options)


def _ratio(ours: Run, theirs: Run, median: bool) -> float:
    a, b = (ours.median_ms, theirs.median_ms) if median else (ours.mean_ms, theirs.mean_ms)
    return a / b if b else float("inf")


# --- 2. site profiles on real pages -------------------------------------------------------------


def profiles_on_pairs(pages: Sequence[Page]) -> None:
    by_host: dict[str, list[Page]] = defaultdict(list)
    for page in pages:
        by_host[host_of(page.url)].append(page)
    paired = [group for group in by_host.values() if len(group) > 1]
    plain: dict[str, str] = {}
    profiled: dict[str, str] = {}
    for group in paired:
        for page in group:
            profile = SiteProfile(host_of(page.url), min_stories=len(group) - 1)
            for other in group:
                if other is not page:
                    found = extract_article(other.html, other.url)
                    profile.observe(other.url, found.raw_title, found.block_hashes)
            plain[page.id] = extract_article(page.html, page.url).text
            profiled[page.id] = extract_article(page.html, page.url, profile=profile).text
    truth = {page.id: page.truth for group in paired for page in group}
    before, after = evaluate(truth, plain), evaluate(truth, profiled)
    print(f"2. Site profile: {len(truth)} pages of the {len(paired)} sites with two pages; each")
    print("   page with the profile learned from the other page of its site\n")
    for name, m in (("without profile", before), ("with profile", after)):
        print(f"   {name:<16} P {m.precision:.4f}  R {m.recall:.4f}  F1 {m.f1:.4f}")
    print()


# --- 2b. bodies on pages nobody tuned on ---------------------------------------------------------


def silver_bodies(dated: Sequence[DatedPage]) -> None:
    """newsmon against trafilatura on the dates-dev pages whose JSON-LD states the article's
    body: a silver truth (publishers' own text, sometimes cut short or with their promos),
    on pages no body rule was written for."""
    pages = []
    for page in dated:
        objects = json_ld_objects(parse_html(page.html))
        body = text_value(article_object(objects).get("articleBody"))
        if body and len(body) >= _SILVER_MIN_CHARS:
            pages.append(Page(page.id, page.url, page.html, body))
    extractors = {"newsmon": _newsmon(DEFAULT_OPTIONS), **TRAFILATURA}
    print(f"2b. Bodies on {len(pages)} dates-dev pages, against their JSON-LD articleBody\n")
    for run in run_extractors(pages, extractors):
        m = run.metrics(pages)
        print(f"   {run.name:<36} P {m.precision:.4f}  R {m.recall:.4f}  F1 {m.f1:.4f}")
    print()


# --- 3. publication days ----------------------------------------------------------------------


def publication_days(pages: Sequence[DatedPage]) -> None:
    ours = theirs = undated = 0
    ours_s: list[float] = []
    theirs_s: list[float] = []
    for page in pages:
        text = decode_html(page.html)
        start = time.perf_counter()
        md = page_metadata(parse_html(text), url=page.url, html=text)
        ours_s.append(time.perf_counter() - start)
        start = time.perf_counter()
        found = htmldate.find_date(text, url=page.url, original_date=True)
        theirs_s.append(time.perf_counter() - start)
        ours += same_day(md.published, page.day)
        theirs += same_day(found, page.day)
        undated += md.published is None
    n = len(pages) or 1
    print(f"3. Publication day on {len(pages)} dates-dev pages")
    print(f"   newsmon   {ours / n:.3f} ({ours}/{len(pages)}, {undated} undated), "
          f"{statistics.fmean(ours_s) * 1000:.1f} ms/page (all metadata)")  # fmt: skip
    print(f"   htmldate  {theirs / n:.3f} ({theirs}/{len(pages)}), "
          f"{statistics.fmean(theirs_s) * 1000:.1f} ms/page\n")  # fmt: skip


# --- 4. titles ----------------------------------------------------------------------------------


def titles(pages: Sequence[Page], dated: Sequence[DatedPage]) -> None:
    print("4. Titles that keep an entity or a part naming the site")
    for label, items in (
        ("aeb-dev", [(p.url, p.html) for p in pages]),
        ("dates-dev", [(p.url, p.html) for p in dated]),
    ):
        bad = []
        for url, html in items:
            md = page_metadata(parse_html(html), url=url, date_fallback=False)
            if title_flaw(md.title or "", md.site_names, url):
                bad.append(md.title)
        print(f"   {label:<10} {len(bad)} of {len(items)}" + (f": {bad[:3]}" if bad else ""))
    print()


def title_flaw(title: str, names: set[str], url: str | None) -> str | None:
    """What is wrong with a title: an undecoded entity, or a first or last part (between
    title separators) that names the site; None when nothing is."""
    if _ENTITY_RE.search(title):
        return "entity"
    parts = re.split("|".join(re.escape(s) for s in SEPARATORS), title)
    if len(parts) > 1 and any(names_site(part, names, url) for part in (parts[0], parts[-1])):
        return "site name"
    return None


# --- 5. replicas --------------------------------------------------------------------------------

# The replicas render many stories per site from their own data: several pages of one site
# (for the site profile) with the true title, author, publication time and paragraphs.
ORIGIN = "http://127.0.0.1:8000"
SITES: dict[str, Callable[[], ReplicaSite]] = {
    "caliber": sites.caliber,
    "eqmint": sites.eqmint,
    "ledger": lambda: sites.ledger(recent=False),
    "kestrel": lambda: sites.kestrel(recent=False),
    "courier": lambda: sites.courier(recent=False),
}


@dataclass(frozen=True)
class ReplicaPage:
    """One rendered story page and the story it shows."""

    site: str
    url: str
    html: bytes
    title: str
    author: str | None
    published: datetime
    body: str


def replica_pages() -> list[ReplicaPage]:
    """Every story of every replica site, oldest first within a site (the order a monitor
    meets them in)."""
    pages = []
    for name, factory in SITES.items():
        site = factory()
        for story in sorted(site.stories, key=lambda s: s.published):
            path = _path(name, site, story)
            response = site.handle(path, ORIGIN)
            if response.status != 200:
                continue
            pages.append(
                ReplicaPage(
                    site=name,
                    url=ORIGIN + path,
                    html=response.body,
                    title=story.title,
                    author=story.author,
                    published=story.published,
                    body="\n\n".join(story.paragraphs),
                )
            )
    return pages


def _path(name: str, site: ReplicaSite, story: object) -> str:
    module = importlib.import_module(f"replica.{name}_site")
    story_path = getattr(module, "story_path", None)
    if story_path is not None:
        return str(story_path(story))
    return f"/{story.slug}/"  # type: ignore[attr-defined]  # EQMint: /<slug>/


def replicas(pages: Sequence[ReplicaPage]) -> None:
    # The spiders' rules, for the rules column only.
    from crawler.crawling.registry import spider_classes

    spiders = spider_classes()
    print(f"5. Replica sites: {len(pages)} stories; generic extraction without / with the site")
    print("   profile learned as the stories come, and with the site's spider rules\n")
    print(f"   {'site':<8} {'mode':<14} {'stories':>7} {'title':>6} {'author':>6} {'day':>5} "
          f"{'time':>5} {'body F1':>8}  flawed titles")  # fmt: skip
    for site in dict.fromkeys(p.site for p in pages):
        story_pages = [p for p in pages if p.site == site]
        rules = getattr(spiders.get(site), "rules", None)
        modes: list[tuple[str, SiteRules | None, bool]] = [
            ("generic", None, False),
            ("+ profile", None, True),
        ]
        if rules is not None:
            modes.append(("spider rules", rules, True))
        for mode, site_rules, learn in modes:
            _replica_row(site, mode, story_pages, site_rules, learn)
    print()


def _replica_row(
    site: str, mode: str, pages: Sequence[ReplicaPage], rules: SiteRules | None, learn: bool
) -> None:
    profile = SiteProfile(site) if learn else None
    counts: dict[str, int] = defaultdict(int)
    texts: dict[str, str] = {}
    flawed = []
    for page in pages:
        found = extract_article(page.html, page.url, rules, profile=profile)
        if profile is not None:
            profile.observe(page.url, found.raw_title, found.block_hashes)
        counts["title"] += found.title == page.title
        counts["author"] += (found.author or None) == page.author
        counts["day"] += same_day(found.published, page.published.date().isoformat())
        counts["time"] += within(found.published, page.published, timedelta(minutes=2))
        texts[page.url] = found.text
        if title_flaw(found.title, set(), page.url):
            flawed.append(found.title)
    body = evaluate({p.url: p.body for p in pages}, texts)
    n = len(pages)
    print(
        f"   {site:<8} {mode:<14} {n:>7} {counts['title']:>3}/{n:<2} {counts['author']:>3}/{n:<2} "
        f"{counts['day']:>2}/{n:<2} {counts['time']:>2}/{n:<2} {body.f1:>8.4f}  {len(flawed)}"
    )


if __name__ == "__main__":
    main()
