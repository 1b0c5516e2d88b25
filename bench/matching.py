"""Watch matching across languages: quality on the replica stories, index size and time per
story, before and after issue 17 (a script, not a test).

Quality. Every bundled replica story (all sites, all languages) is saved into a fresh
database through ``save_story`` with the issue's two watches and their aliases. What a reader
would call a story about each topic is judged from the story as written, with patterns per
language that name the inflected forms (the same judgement as ``tests/e2e/test_languages``).
Precision and recall per language for

- before: the English query alone on the porter index (newsmon before issue 17);
- aliases on porter: the aliases too, but every story on the porter index (aliases without
  per-language analysis);
- after: aliases, per-language stemming, CJK character pairs (what newsmon does now);
- for Azerbaijani only, the analyzer variants: the plain Turkish stemmer, and no stemming.

Cost. The replica stories are saved N times over (``--copies``, each copy a distinct story)
and the database measured with SQLite's ``dbstat``: bytes of ``articles_fts`` (the porter
index, its shadow tables) and of ``articles_stemmed``; then the time per story of matching
(before: one query on the porter index; after: every form of both watches) and of writing the
new index row (analysis in Python).

    .venv/bin/python bench/matching.py
    .venv/bin/python bench/matching.py --copies 200
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import sqlite_utils

from crawler.db import analysis, connect, transaction
from crawler.db.matching import WatchQuery, index_article, match_article, match_form
from crawler.db.stories import SaveContext, save_story
from crawler.dedup.fingerprints import body_hash, content_hash
from crawler.story import Story
from replica.stories import DATA_DIR, load_stories

WATCHES = [
    WatchQuery(
        "rare-earths",
        '"rare earths"',
        ('"редкоземельные металлы"', '"nadir torpaq elementləri"', "レアアース", "稀土"),
    ),
    WatchQuery("takaichi", "Takaichi", ("Такаити", "Такаичи", "Takaiçi", "高市早苗", "高市首相")),
]
# A reader's judgement, per watch: the topic named in any language, inflected as it may be.
ABOUT = {
    "rare-earths": re.compile(
        r"\brare[-\s]+earths?\b|\bредкоземельн\w*\s+металл|\bnadir\s+torpaq\s+elementlər"
        r"|レアアース|稀土",
        re.I,
    ),
    "takaichi": re.compile(r"\btakaichi|\bтакаи[тч]и\b|\btakaiçi|高市早苗|高市首相", re.I),
}


def replica_stories() -> list[Story]:
    """Every bundled replica story as the pipelines would store it."""
    found = []
    for folder in sorted(p for p in DATA_DIR.iterdir() if p.is_dir()):
        for s in load_stories(folder.name):
            text = "\n\n".join(str(p) for p in s.paragraphs)
            story = Story(url=f"https://{folder.name}.test/{s.slug}", site=folder.name)
            story.title, story.text, story.language = s.title, text, s.language
            story.content_hash = content_hash(s.title, text)
            story.body_hash = body_hash(text)
            found.append(story)
    return found


def truth(stories: list[Story]) -> dict[tuple[str, str], bool]:
    return {
        (s.url, w): bool(ABOUT[w].search(s.title + "\n" + s.text)) for s in stories for w in ABOUT
    }


def save_all(db: sqlite_utils.Database, stories: Iterable[Story]) -> dict[str, int]:
    ids = {}
    ctx = SaveContext(watches=WATCHES, channels=())
    with transaction(db):
        for story in stories:
            ids[story.url] = save_story(db, story, ctx).article_id
    return ids


Matcher = Callable[[sqlite3.Connection, int, str], set[str]]


def before(conn: sqlite3.Connection, article_id: int, language: str) -> set[str]:
    return {w.name for w in WATCHES if match_form(conn, article_id, w.query, "porter")}


def aliases_on_porter(conn: sqlite3.Connection, article_id: int, language: str) -> set[str]:
    return {
        w.name for w in WATCHES if any(match_form(conn, article_id, f, "porter") for f in w.forms)
    }


def after(conn: sqlite3.Connection, article_id: int, language: str) -> set[str]:
    return {m.watch for m in match_article(conn, article_id, WATCHES)}


def quality(
    db: sqlite_utils.Database, stories: list[Story], ids: dict[str, int], matcher: Matcher
) -> dict[str, tuple[int, int, int]]:
    """language -> (true positives, false positives, false negatives)."""
    judged = truth(stories)
    out: dict[str, list[int]] = {}
    for s in stories:
        got = matcher(db.conn, ids[s.url], s.language or "")
        counts = out.setdefault(s.language or "?", [0, 0, 0])
        for w in ABOUT:
            relevant = judged[(s.url, w)]
            counts[0] += relevant and w in got
            counts[1] += (not relevant) and w in got
            counts[2] += relevant and w not in got
    return {k: (v[0], v[1], v[2]) for k, v in out.items()}


def report_quality(title: str, result: dict[str, tuple[int, int, int]]) -> None:
    print(f"\n{title}")
    print(f"  {'language':8} {'relevant':>8} {'matched':>8} {'precision':>9} {'recall':>7}")
    totals = [0, 0, 0]
    for language in sorted(result):
        tp, fp, fn = result[language]
        totals = [totals[0] + tp, totals[1] + fp, totals[2] + fn]
        print(_row(language, tp, fp, fn))
    print(_row("all", *totals))


def _row(label: str, tp: int, fp: int, fn: int) -> str:
    precision = f"{tp / (tp + fp):.2f}" if tp + fp else "-"
    recall = f"{tp / (tp + fn):.2f}" if tp + fn else "-"
    return f"  {label:8} {tp + fn:8d} {tp + fp:8d} {precision:>9} {recall:>7}"


def azerbaijani_variants(stories: list[Story]) -> None:
    """Recall and precision of the Azerbaijani stories under other analyzers."""
    az = [s for s in stories if s.language == "az"]
    print("\nAzerbaijani stories by analyzer (same watches; 'turkish-az' is what newsmon uses)")
    for analyzer in ("turkish-az", "turkish", "cjk"):  # cjk: words unstemmed
        with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "az.db") as db:
            ids = save_all(db, az)
            with transaction(db):
                for s in az:
                    db.execute("DELETE FROM articles_stemmed WHERE rowid = ?", (ids[s.url],))
                    db.execute(
                        "INSERT INTO articles_stemmed (rowid, title, text, analyzer) "
                        "VALUES (?, ?, ?, ?)",
                        (
                            ids[s.url],
                            analysis.index_text(s.title, analyzer),
                            analysis.index_text(s.text, analyzer),
                            analyzer,
                        ),
                    )
            result = quality(db, az, ids, after)
            tp, fp, fn = result["az"]
            name = "unstemmed" if analyzer == "cjk" else analyzer
            print(_row(name, tp, fp, fn))


# Azerbaijani words and inflected forms of them (case endings, possessives, plurals), for
# how often an analyzer brings a form to the dictionary form's index token.
AZ_FORMS = {
    "torpaq": ["torpağı", "torpağın", "torpağa", "torpaqda", "torpaqdan", "torpaqlar"],
    "element": ["elementi", "elementlər", "elementləri", "elementlərinin", "elementlərə",
                "elementlərdən", "elementlərində"],
    "Takaiçi": ["Takaiçinin", "Takaiçiyə", "Takaiçini", "Takaiçidən", "Takaiçi ilə"],
    "nazir": ["naziri", "nazirin", "nazirə", "nazirlər", "nazirlərin", "nazirdən"],
    "ölkə": ["ölkələr", "ölkənin", "ölkəyə", "ölkədə", "ölkələrin", "ölkədən"],
    "saziş": ["sazişi", "sazişin", "sazişə", "sazişlər", "sazişdə", "sazişdən"],
}  # fmt: skip


def azerbaijani_conflation() -> None:
    print("\nAzerbaijani inflected forms indexed as their dictionary form, by analyzer:")
    total = sum(len(forms) for forms in AZ_FORMS.values())
    for analyzer in ("turkish-az", "turkish", "cjk"):
        same = sum(
            analysis.index_text(form, analyzer).split()[0] == analysis.index_text(word, analyzer)
            for word, forms in AZ_FORMS.items()
            for form in forms
        )
        name = "unstemmed" if analyzer == "cjk" else analyzer
        print(f"  {name:12} {same:3d} of {total} ({same / total:.0%})")


def copies(stories: list[Story], n: int) -> list[Story]:
    out = []
    for i in range(n):
        for s in stories:
            c = Story(url=f"{s.url}/{i}", site=s.site, title=s.title, text=f"{s.text}\n\n#{i}")
            c.language, c.content_hash = s.language, content_hash(c.title, c.text + str(i))
            out.append(c)
    return out


def table_bytes(db: sqlite_utils.Database, name: str, shadows: bool = True) -> int:
    """Bytes of a table's pages, with its FTS5 shadow tables (``name_*``) if asked."""
    rows = db.execute(
        "SELECT sum(pgsize) FROM dbstat WHERE name = ? OR (? AND name GLOB ?)",
        (name, shadows, name + "_*"),
    ).fetchone()
    return int(rows[0] or 0)


def cost(stories: list[Story], n: int) -> None:
    many = copies(stories, n)
    with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "cost.db") as db:
        save_all(db, many)
        ids = [r[0] for r in db.execute("SELECT id FROM articles ORDER BY id")]
        languages = dict(db.execute("SELECT id, language FROM articles").fetchall())
        texts = {r[0]: r[1:] for r in db.execute("SELECT id, title, text, language FROM articles")}
        text_bytes = table_bytes(db, "articles", shadows=False)
        porter_bytes = table_bytes(db, "articles_fts")
        stemmed_bytes = table_bytes(db, "articles_stemmed")
        print(f"\nIndex size, {len(ids)} stories ({n} copies of {len(stories)}):")
        print(f"  articles table (its rows, no index)  {text_bytes / 1e6:8.2f} MB")
        print(f"  articles_fts (porter; before)        {porter_bytes / 1e6:8.2f} MB")
        print(f"  articles_stemmed (new)               {stemmed_bytes / 1e6:8.2f} MB")
        print(
            f"  full-text indexes: {porter_bytes / 1e6:.2f} MB before, "
            f"{(porter_bytes + stemmed_bytes) / 1e6:.2f} MB after "
            f"(x{(porter_bytes + stemmed_bytes) / porter_bytes:.2f})"
        )
        per_story = {
            "match, before (query on the porter index)": lambda i: before(db.conn, i, ""),
            "match, after (query and aliases, both watches)": lambda i: after(db.conn, i, ""),
            "write the articles_stemmed row (analysis)": lambda i: index_article(
                db.conn, i, *texts[i]
            ),
        }
        print(f"\nTime per story (median of 3 passes over {len(ids)} stories, CPU time):")
        for label, fn in per_story.items():
            passes = []
            for _ in range(3):
                started = time.process_time()
                for i in ids:
                    fn(i)
                passes.append((time.process_time() - started) / len(ids))
            print(f"  {label:48} {statistics.median(passes) * 1e3:7.3f} ms")
        by_language: dict[str, list[int]] = {}
        for i in ids:
            by_language.setdefault(languages[i] or "?", []).append(i)
        print("\nMatching time per story, after, by language:")
        for language, members in sorted(by_language.items()):
            started = time.process_time()
            for i in members:
                after(db.conn, i, "")
            elapsed = (time.process_time() - started) / len(members)
            print(f"  {language:4} {len(members):6d} stories {elapsed * 1e3:7.3f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=100, help="copies of the replica stories")
    args = parser.parse_args()
    stories = replica_stories()
    print(f"{len(stories)} replica stories, SQLite {sqlite3.sqlite_version}")
    with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "q.db") as db:
        ids = save_all(db, stories)
        report_quality(
            "Before: the English queries alone (porter index)", quality(db, stories, ids, before)
        )
        report_quality(
            "Aliases, every story on the porter index", quality(db, stories, ids, aliases_on_porter)
        )
        report_quality(
            "After: aliases, per-language stemming, CJK pairs", quality(db, stories, ids, after)
        )
    azerbaijani_variants(stories)
    azerbaijani_conflation()
    cost(stories, args.copies)


if __name__ == "__main__":
    main()
