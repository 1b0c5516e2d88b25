"""Crawl throughput: bare Scrapy fetching against `newsmon crawl` with the full pipeline
(a script, not a test).

Serves a generated WordPress-style replica (``replica.bulk``: 3,000 stories of 40-170 KB,
a sitemap index listing all) on 127.0.0.1, then in the same run measures

(a) a bare Scrapy spider that walks the same sitemaps and only fetches the story pages, with
    newsmon's own download settings (concurrency, AutoThrottle, robots.txt) and no pipeline;
(b) ``newsmon crawl --no-deliver`` of the site: discovery, extraction, canonical URLs,
    dedup, storage, watch matching and alerts queued for a Slack channel whose webhook is a
    dead local port.

Both run as separate processes. Throughput is story pages over the time from the crawl's
first request to the process's exit (so interpreter start-up is not counted, draining the
pipeline is). Memory is the peak of the summed RSS of the crawl process tree (the extraction
pool and its fork server included), sampled every 50 ms; CPU is user/system time per process
from /proc, split into the crawl process and its children.

    .venv/bin/python bench/crawl.py                      # 3,000 stories, eqmint spider
    .venv/bin/python bench/crawl.py --spider generic     # no site rules: the generic extractor
    .venv/bin/python bench/crawl.py --workers 0          # extraction in the reactor's process
    .venv/bin/python bench/crawl.py --profile            # cProfile of the crawl process
    .venv/bin/python bench/crawl.py --server replica     # the stdlib ReplicaServer instead
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replica.bulk import BulkServer, bulk  # noqa: E402
from replica.server import ReplicaServer  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SAMPLE_SECONDS = 0.05
WATCHES = [
    {"name": "rare-earths", "query": '"rare earths"'},
    {"name": "takaichi", "query": "Takaichi"},
    {"name": "toyota-exports", "query": "Toyota AND exports"},
    {"name": "central-bank", "query": '"central bank" AND inflation'},
]
DEAD_WEBHOOK = "http://127.0.0.1:9/hooks/newsmon"


# --- process tree sampling -------------------------------------------------------------------


@dataclass
class ProcStats:
    """What the sampler saw of one process tree."""

    peak_rss: int = 0  # bytes, the largest sum of RSS over the tree at one sample
    hwm: dict[int, int] = field(default_factory=dict)  # VmHWM per pid, bytes
    cpu: dict[int, tuple[float, float]] = field(default_factory=dict)  # (user, sys) per pid
    names: dict[int, str] = field(default_factory=dict)


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                found += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return found


def _tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += _children(pid)
    return pids


def _sample(pid: int, stats: ProcStats) -> int:
    """Record one process's CPU and high-water mark; return its current RSS in bytes."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            raw = fh.read()
        with open(f"/proc/{pid}/status") as fh:
            status = fh.read()
    except OSError:
        return 0
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    stats.names[pid] = name
    stats.cpu[pid] = (int(fields[11]) / TICK, int(fields[12]) / TICK)
    hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
    if hwm:
        stats.hwm[pid] = max(stats.hwm.get(pid, 0), int(hwm.group(1)) * 1024)
    return int(fields[21]) * PAGE


def _watch(proc: subprocess.Popen[str], stats: ProcStats, stop: threading.Event) -> None:
    while not stop.is_set() and proc.poll() is None:
        rss = sum(_sample(pid, stats) for pid in _tree(proc.pid))
        stats.peak_rss = max(stats.peak_rss, rss)
        stop.wait(SAMPLE_SECONDS)


# --- one measured run ------------------------------------------------------------------------


@dataclass
class Run:
    name: str
    pages: int
    seconds: float
    stats: ProcStats
    output: str

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def cpu_split(self, root: int) -> tuple[float, float, float, float]:
        """(parent user, parent sys, children user, children sys) in seconds."""
        pu, ps = self.stats.cpu.get(root, (0.0, 0.0))
        cu = sum(u for pid, (u, _) in self.stats.cpu.items() if pid != root)
        cs = sum(s for pid, (_, s) in self.stats.cpu.items() if pid != root)
        return pu, ps, cu, cs


class Server:
    """The request log of whichever server is used: (monotonic time, target) pairs."""

    def __init__(self, served: Callable[[], list[tuple[float, str]]]) -> None:
        self.served = served


def measure(
    name: str, cmd: Sequence[str], env: dict[str, str], server: Server, story_paths: set[str]
) -> tuple[Run, int]:
    """Run ``cmd`` to its end; count story pages served while it ran."""
    before = len(server.served())
    stats = ProcStats()
    stop = threading.Event()
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    sampler = threading.Thread(target=_watch, args=(proc, stats, stop), daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    ended = time.monotonic()
    stop.set()
    sampler.join()
    log = server.served()[before:]
    if proc.returncode not in (0, 1) or not log:
        sys.exit(f"{name} failed (exit {proc.returncode}):\n{output[-3000:]}")
    pages = sum(1 for _, target in log if target in story_paths)
    return Run(name, pages, ended - log[0][0], stats, output), proc.pid


# --- (a) the bare fetch ----------------------------------------------------------------------


def bare_fetch(sitemap: str) -> None:
    """Fetch every story of the sitemap with Scrapy and newsmon's download settings only."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings
    from scrapy.spiders import SitemapSpider

    class BareSpider(SitemapSpider):
        name = "bare"
        sitemap_urls = [sitemap]

        def parse(self, response: Any) -> None:
            return None

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl(BareSpider)
    process.start()


# --- (b) newsmon crawl -----------------------------------------------------------------------


def write_config(folder: Path, base_url: str, spider: str) -> Path:
    site: dict[str, Any] = {"name": "bulk", "spider": spider, "url": base_url, "time_limit": "1h"}
    if spider == "generic":
        site["sitemaps"] = [base_url + "sitemap_index.xml"]
        site["article_pattern"] = r"^https?://[^/]+/[a-z0-9-]+-\d+/$"
    doc = {
        "database": "newsmon.db",
        "watches": WATCHES,
        "sites": [site],
        "alerts": {"slack": {"webhook_url": DEAD_WEBHOOK}},
    }
    path = folder / "newsmon.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def stored(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        one = lambda sql: int(conn.execute(sql).fetchone()[0])  # noqa: E731
        return {
            "articles": one("SELECT count(*) FROM articles"),
            "duplicates": one("SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL"),
            "matches": one("SELECT count(*) FROM matches"),
            "alerts queued": one("SELECT count(*) FROM alerts WHERE status = 'pending'"),
        }
    finally:
        conn.close()


# --- report ----------------------------------------------------------------------------------


def report(bare: Run, bare_pid: int, full: Run, full_pid: int, cores: int) -> None:
    mb = 1024 * 1024
    print(f"\ncores: {cores}   (os.sched_getaffinity)")
    print(f"{'':>22} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'peak RSS':>9} "
          f"{'sum VmHWM':>9} {'CPU parent u/s':>15} {'CPU children u/s':>17}")  # fmt: skip
    for run, pid in ((bare, bare_pid), (full, full_pid)):
        pu, ps, cu, cs = run.cpu_split(pid)
        print(
            f"{run.name:>22} {run.pages:>6} {run.seconds:>8.1f} {run.rate:>8.1f} "
            f"{run.stats.peak_rss / mb:>7.0f}MB {sum(run.stats.hwm.values()) / mb:>7.0f}MB "
            f"{pu:>7.1f}/{ps:<7.1f} {cu:>8.1f}/{cs:<8.1f}"
        )
    print(f"\nratio newsmon / bare: {full.rate / bare.rate:.2f}x")
    procs = sorted({full.stats.names.get(p, "?") for p in full.stats.cpu if p != full_pid})
    print(f"crawl process tree: 1 crawl + {len(full.stats.cpu) - 1} children ({', '.join(procs)})")


def print_profile(path: Path, top: int) -> None:
    print(f"\ncProfile of the crawl process, top {top} by own time:")
    pstats.Stats(str(path)).sort_stats("tottime").print_stats(top)
    print(f"\ntop {top} by cumulative time:")
    pstats.Stats(str(path)).sort_stats("cumulative").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20251103)
    parser.add_argument("--spider", choices=("eqmint", "generic"), default="eqmint",
                        help="eqmint: site rules (CSS selectors); generic: the generic extractor")  # fmt: skip
    parser.add_argument("--workers", help="NEWSMON_EXTRACT_WORKERS for the crawl (default: auto)")
    parser.add_argument("--server", choices=("bulk", "replica"), default="bulk")
    parser.add_argument("--profile", action="store_true", help="cProfile the crawl process")
    parser.add_argument("--top", type=int, default=25, help="profile entries to print")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--bare-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare-fetch", metavar="SITEMAP", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_fetch:
        bare_fetch(args.bare_fetch)
        return 0

    started = time.monotonic()
    site = bulk(args.stories, args.seed, cache=args.server == "replica")
    story_paths = {f"/{s.slug}/" for s in site.stories}
    if args.server == "bulk":
        bulk_server = BulkServer(site).start()
        bulk_server.prerender(sorted(story_paths))
        server, base_url, stop = Server(lambda: list(bulk_server.log)), bulk_server.base_url, bulk_server.stop
    else:
        replica = ReplicaServer(site).start()
        marks: list[tuple[float, str]] = []

        def log() -> list[tuple[float, str]]:
            # ReplicaServer keeps no times: the first mark is taken when its log grows.
            records = replica.requests
            marks.extend((time.monotonic(), r.path) for r in records[len(marks):])
            return marks

        for path in sorted(story_paths):
            site.handle(path, replica.origin)
        server, base_url, stop = Server(log), replica.base_url, replica.stop
        threading.Thread(target=lambda: [log() or time.sleep(0.01) for _ in iter(int, 1)],
                         daemon=True).start()  # fmt: skip
    print(f"site: {len(story_paths)} stories at {base_url}, ready in "
          f"{time.monotonic() - started:.1f}s ({args.server} server)", flush=True)  # fmt: skip

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NEWSMON_CONFIG", None)
    if args.workers is not None:
        env["NEWSMON_EXTRACT_WORKERS"] = args.workers
    cores = len(os.sched_getaffinity(0))
    folder = Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    try:
        bare_cmd = [sys.executable, __file__, "--bare-fetch", base_url + "sitemap_index.xml"]
        bare, bare_pid = measure("bare Scrapy fetch", bare_cmd, env, server, story_paths)
        print(f"bare fetch: {bare.pages} pages in {bare.seconds:.1f}s", flush=True)
        if args.bare_only:
            return 0
        config = write_config(folder, base_url, args.spider)
        profile = folder / "crawl.prof"
        cmd = [sys.executable, *(["-m", "cProfile", "-o", str(profile)] if args.profile else []),
               "-m", "crawler", "-c", str(config), "--log-level", "WARNING", "crawl",
               "--no-deliver"]  # fmt: skip
        full, full_pid = measure(f"newsmon crawl ({args.spider})", cmd, env, server, story_paths)
        print(full.output.strip()[-2000:])
        print(json.dumps(stored(folder / "newsmon.db")))
        report(bare, bare_pid, full, full_pid, cores)
        if args.profile:
            print_profile(profile, args.top)
    finally:
        stop()
        if args.keep:
            print(f"kept {folder}")
        else:
            for path in sorted(folder.rglob("*"), reverse=True):
                path.unlink() if path.is_file() else path.rmdir()
            folder.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(main())
