"""What a theme change costs: the wall time of `newsmon crawl` when every story page falls back
from the site's rules to generic extraction, against the same crawl when the rules match
(a script, not a test).

Serves two copies of the generated WordPress replica (``replica.bulk``) with the same stories,
one in the theme the ``eqmint`` spider's rules were written for (``classic``) and one in
another (``newspaper``: other classes and wrappers, the same content and metadata), and
crawls each into a fresh database, alternating, ``--rounds`` times. It reports wall time,
pages per second, and how many story pages fell back (from the ``runs`` row).

    .venv/bin/python bench/fallback.py                    # 1,000 stories, 2 rounds
    .venv/bin/python bench/fallback.py --stories 300 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replica.bulk import BulkServer, bulk  # noqa: E402

THEMES = ("classic", "newspaper")


def crawl(folder: Path, base_url: str, stories: int) -> tuple[float, dict[str, int]]:
    """One `newsmon crawl` into a fresh database: wall seconds and the run's counts."""
    for old in folder.glob("newsmon.db*"):
        old.unlink()
    doc = {
        "database": "newsmon.db",
        "watches": [{"name": "rare-earths", "query": '"rare earths"'}],
        "sites": [{"name": "bulk", "spider": "eqmint", "url": base_url, "time_limit": "1h"}],
    }
    config = folder / "newsmon.yaml"
    config.write_text(yaml.safe_dump(doc))
    env = {**os.environ, "NEWSMON_MAX_RUN_FETCHES": str(stories + 100)}
    env.pop("NEWSMON_CONFIG", None)
    cmd = [sys.executable, "-m", "crawler", "-c", str(config), "crawl", "--no-deliver"]
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - started
    if done.returncode:
        raise SystemExit(f"crawl failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    conn = sqlite3.connect(folder / "newsmon.db")
    conn.row_factory = sqlite3.Row
    run = dict(conn.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone())
    conn.close()
    return seconds, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    times: dict[str, list[float]] = {theme: [] for theme in THEMES}
    with tempfile.TemporaryDirectory(prefix="newsmon-fallback-") as tmp:
        servers = {}
        for theme in THEMES:
            site = bulk(args.stories)
            site.set_theme(theme)
            servers[theme] = BulkServer(site).start()
        try:
            for number in range(1, args.rounds + 1):
                for theme in THEMES:
                    folder = Path(tmp) / theme
                    folder.mkdir(exist_ok=True)
                    seconds, run = crawl(folder, servers[theme].base_url, args.stories)
                    times[theme].append(seconds)
                    pages = run["rules_full"] + run["rules_partial"] + run["rules_none"]
                    rate = run["pages"] / seconds
                    print(
                        f"round {number} {theme:>9}: {seconds:6.1f} s  {rate:6.1f} pages/s  "
                        f"stored {run['stored']}  fell back {run['fallbacks']} of {pages}",
                        flush=True,
                    )
        finally:
            for server in servers.values():
                server.stop()
    rules, generic = (statistics.median(times[t]) for t in THEMES)
    print(
        f"median wall time: rules match {rules:.1f} s, every page falls back {generic:.1f} s; "
        f"ratio {generic / rules:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
