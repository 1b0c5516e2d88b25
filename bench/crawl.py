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
    .venv/bin/python bench/crawl.py --profile py-spy     # where the CPU goes, per process, thread
    NEWSMON_LAYOUTS=0 .venv/bin/python bench/crawl.py --spider generic  # without learned layouts
    .venv/bin/python bench/crawl.py --rounds 1           # one round, not three (quicker, noisier)
    .venv/bin/python bench/crawl.py --server replica     # the stdlib ReplicaServer instead
    git worktree add /tmp/old REV                        # then, another commit's newsmon in
    .venv/bin/python bench/crawl.py --against /tmp/old   # the same rounds, order alternating

Three rounds by default (one when profiling), bare and newsmon alternating, and the median
of their ratios: a single round's ratio moved between 0.44x and 0.57x within one morning on
the 2-core machine (docs/scaling.md). The machine is shared with whatever else runs: the
report shows how long the runs' threads waited for a CPU ("CPU wait", from /proc schedstat)
and the CPU time per page, which moves less with the load than pages/s do.
"""

from __future__ import annotations

import argparse
import json
import os
import pstats
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
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
    parents: dict[int, int] = field(default_factory=dict)
    waited: dict[int, float] = field(default_factory=dict)  # runnable, not running (s)
    waited_main: dict[int, float] = field(default_factory=dict)  # the same, main thread only
    cpu_main: dict[int, float] = field(default_factory=dict)  # user+sys of the main thread
    root: int = 0  # the process started

    def crawl_root(self) -> int:
        """The crawl process: the one started, or its child when that is py-spy."""
        if self.names.get(self.root, "").startswith("python"):
            return self.root
        children = [p for p, parent in self.parents.items() if parent == self.root]
        return min(children, default=self.root)


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
    stats.parents[pid] = int(fields[1])
    stats.cpu[pid] = (int(fields[11]) / TICK, int(fields[12]) / TICK)
    stats.waited[pid], stats.waited_main[pid] = _run_delay(pid)
    stats.cpu_main[pid] = _main_thread_cpu(pid)
    hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
    if hwm:
        stats.hwm[pid] = max(stats.hwm.get(pid, 0), int(hwm.group(1)) * 1024)
    return int(fields[21]) * PAGE


def _main_thread_cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/task/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _run_delay(pid: int) -> tuple[float, float]:
    """Seconds the process's threads (all, and the main one) waited for a CPU while runnable
    (/proc schedstat): on a busy machine, time lost to other processes."""
    total = main = 0
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/schedstat") as fh:
                waited = int(fh.read().split()[1])
            total += waited
            main = waited if task == str(pid) else main
    except (OSError, IndexError, ValueError):
        pass
    return total / 1e9, main / 1e9


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
    phases: tuple[float, float, float] = (0.0, 0.0, 0.0)  # first story, last story, exit (s)

    @property
    def rate(self) -> float:
        return self.pages / self.seconds if self.seconds else 0.0

    def capacity(self, cores: int) -> float:
        """Pages/s this run's CPU cost allows on ``cores`` idle cores: its reactor (main
        thread) on one core, all its processes on all of them. A load-free estimate."""
        pu, ps, cu, cs = self.cpu_split()
        reactor = self.stats.cpu_main.get(self.stats.crawl_root(), 0.0)
        if not self.pages or not reactor:
            return 0.0
        return min(self.pages / reactor, cores * self.pages / (pu + ps + cu + cs))

    def cpu_split(self) -> tuple[float, float, float, float]:
        """(crawl process user, sys, its children's user, sys) in seconds."""
        root = self.stats.crawl_root()
        children = [pid for pid in self.stats.cpu if self._below(pid, root)]
        pu, ps = self.stats.cpu.get(root, (0.0, 0.0))
        cu = sum(self.stats.cpu[pid][0] for pid in children)
        cs = sum(self.stats.cpu[pid][1] for pid in children)
        return pu, ps, cu, cs

    def _below(self, pid: int, root: int) -> bool:
        while pid in self.stats.parents:
            pid = self.stats.parents[pid]
            if pid == root:
                return True
        return False


def measure(
    name: str,
    cmd: Sequence[str],
    env: dict[str, str],
    served: Served,
    story_paths: set[str],
    cwd: Path = REPO,
) -> Run:
    """Run ``cmd`` in ``cwd`` to its end; count story pages served while it ran."""
    before = len(served.log())
    stats = ProcStats()
    stop = threading.Event()
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    stats.root = proc.pid
    sampler = threading.Thread(target=_watch, args=(proc, stats, stop), daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    ended = time.monotonic()
    stop.set()
    sampler.join()
    log = served.log()[before:]
    if proc.returncode not in (0, 1) or not log:
        sys.exit(f"{name} failed (exit {proc.returncode}):\n{output[-3000:]}")
    stories = [when - log[0][0] for when, target in log if target in story_paths]
    phases = (stories[0], stories[-1], ended - log[0][0]) if stories else (0.0, 0.0, 0.0)
    return Run(name, len(stories), ended - log[0][0], stats, output, phases)


# --- (a) the bare fetch ----------------------------------------------------------------------


def bare_fetch(sitemap: str, overrides: dict[str, Any]) -> None:
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
    settings.setmodule("crawler.crawling.settings", priority="project")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("LOG_LEVEL", "WARNING", priority="cmdline")
    for key, value in overrides.items():
        settings.set(key, value, priority="cmdline")
    process = CrawlerProcess(settings)
    process.crawl(BareSpider)
    process.start()


# --- (b) newsmon crawl -----------------------------------------------------------------------

# `newsmon` with extra Scrapy settings, for --setting experiments: the CLI takes none.
WITH_SETTINGS = """
import json, sys
import crawler.crawling.runner as crawl
extra, sys.argv = json.loads(sys.argv[1]), ["newsmon", *sys.argv[2:]]
plain = crawl.scrapy_settings
crawl.scrapy_settings = lambda config, overrides=None: plain(config, {**(overrides or {}), **extra})
from crawler.cli import cli
cli(prog_name="newsmon")
"""


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


@dataclass
class Round:
    bare: Run
    full: Run
    against: Run | None = None  # the --against checkout's crawl, in the same round

    @property
    def ratio(self) -> float:
        return self.full.rate / self.bare.rate if self.bare.rate else 0.0

    @property
    def against_ratio(self) -> float:
        rate = self.against.rate if self.against else 0.0
        return rate / self.bare.rate if self.bare.rate else 0.0

    def capacity_ratio(self, cores: int) -> float:
        bare = self.bare.capacity(cores)
        return self.full.capacity(cores) / bare if bare else 0.0


def report(rounds: list[Round], cores: int) -> None:
    mb = 1024 * 1024
    print(f"\ncores: {cores} (os.sched_getaffinity); load average now: {os.getloadavg()[0]:.1f}")
    print(
        f"{'':>24} {'pages':>6} {'seconds':>8} {'pages/s':>8} {'peak RSS':>9} {'sum VmHWM':>9}"
        f" {'CPU parent u/s':>15} {'CPU children u/s':>17} {'ms CPU/page':>11}"
        f" {'CPU wait':>8} {'reactor wait':>12} {'reactor ms/page':>15}"
    )
    for number, r in enumerate(rounds, start=1):
        for run in (r.bare, r.full, *([r.against] if r.against else [])):
            pu, ps, cu, cs = run.cpu_split()
            per_page = (pu + ps + cu + cs) / run.pages * 1000 if run.pages else 0.0
            print(
                f"{number}: {run.name:>21} {run.pages:>6} {run.seconds:>8.1f} {run.rate:>8.1f} "
                f"{run.stats.peak_rss / mb:>7.0f}MB {sum(run.stats.hwm.values()) / mb:>7.0f}MB "
                f"{pu:>7.1f}/{ps:<7.1f} {cu:>8.1f}/{cs:<8.1f} {per_page:>11.1f}"
                f" {sum(run.stats.waited.values()):>7.1f}s"
                f" {run.stats.waited_main.get(run.stats.crawl_root(), 0.0):>11.1f}s"
                f" {run.stats.cpu_main.get(run.stats.crawl_root(), 0.0) / run.pages * 1000:>15.1f}"
            )
        print(
            f"   ratio newsmon / bare: {r.ratio:.2f}x measured, {r.capacity_ratio(cores):.2f}x"
            f" CPU-bound capacity ({r.full.capacity(cores):.0f} / {r.bare.capacity(cores):.0f}"
            f" pages/s); first story, last story, exit at: bare {_phases(r.bare)},"
            f" newsmon {_phases(r.full)}"
        )
        if r.against:
            print(f"   ratio of the --against checkout: {r.against_ratio:.2f}x measured")
    if len(rounds) > 1:
        median = statistics.median(r.ratio for r in rounds)
        print(f"median ratio over {len(rounds)} rounds: {median:.2f}x")
    if rounds[0].against:
        against = statistics.median(r.against_ratio for r in rounds)
        ahead = sum(r.ratio > r.against_ratio for r in rounds)
        print(
            f"--against checkout: median ratio {against:.2f}x; this checkout ahead in {ahead}"
            f" of {len(rounds)} rounds"
        )
    last = rounds[-1]
    procs = sorted({last.full.stats.names.get(p, "?") for p in last.full.stats.cpu} - {""})
    print(f"crawl process tree: {len(last.full.stats.cpu)} processes ({', '.join(procs)})")
    print(
        "CPU wait: time the runs' threads were ready to run but waited for a CPU (all threads;"
        " reactor: the crawl process's main thread)"
    )
    print(
        "CPU-bound capacity: pages/s the CPU cost per page allows on idle cores (reactor thread"
        " on one core, every process on all); what the ratio would be without other load"
    )


def _phases(run: Run) -> str:
    return "/".join(f"{t:.1f}" for t in run.phases) + "s"


def print_stacks(path: Path, top: int) -> None:
    """Top functions of py-spy's collapsed stacks, by own and by inclusive samples, per kind of
    process (the crawl process, its workers)."""
    own: Counter[tuple[str, str]] = Counter()
    inclusive: Counter[tuple[str, str]] = Counter()
    per_kind: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        # 'process PID:"command line";' labels nest: a child's stack starts with its parents'.
        labels = list(re.finditer(r'process \d+:"(.*?)";', stack))
        command = labels[-1].group(1) if labels else ""
        frames = stack[labels[-1].end() :].split(";") if labels else stack.split(";")
        kind = "crawl" if "-m crawler" in command else "pool" if "forkserver" in command else "?"
        frames = [re.sub(r":\d+\)$", ")", f) for f in frames if f]
        per_kind[kind] += int(count)
        if frames:
            own[kind, frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[kind, frame] += int(count)
    total = sum(per_kind.values())
    shares = ", ".join(f"{k} {n / total:.0%}" for k, n in per_kind.most_common())
    print(f"\npy-spy: {total} on-CPU samples ({shares})")
    for title, counter in (("own", own), ("inclusive", inclusive)):
        print(f"top {top} by {title} samples (share of all samples):")
        for (kind, frame), n in counter.most_common(top):
            print(f"  {n / total:6.1%}  {kind:6} {frame}")


def print_profile(path: Path, top: int) -> None:
    print(f"\ncProfile of the crawl process (main thread), top {top} by own time:")
    pstats.Stats(str(path)).sort_stats("tottime").print_stats(top)
    print(f"top {top} of newsmon's own code by cumulative time:")
    pstats.Stats(str(path)).sort_stats("cumulative").print_stats(
        r"/(pipelines|crawler|spiders)/", top
    )


# --- the site ------------------------------------------------------------------------------------


@dataclass
class Served:
    base_url: str
    log: Callable[[], list[tuple[float, str]]]  # (monotonic time, target) of every request
    stop: Callable[[], None]


def serve(stories: int, seed: int, kind: str) -> tuple[Served, set[str]]:
    """The bulk site on a local server, every story page rendered ahead of the runs."""
    site = bulk(stories, seed, cache=kind == "replica")
    paths = {f"/{s.slug}/" for s in site.stories}
    if kind == "bulk":
        server = BulkServer(site).start()
        server.prerender([*sorted(paths), "/?s=warm-up"])  # the first search indexes the site
        return Served(server.base_url, lambda: list(server.log), server.stop), paths
    replica = ReplicaServer(site).start()
    for path in sorted(paths):
        site.handle(path, replica.origin)
    marks: list[tuple[float, str]] = []
    stop = threading.Event()

    def follow() -> None:
        # ReplicaServer records no times: each request is stamped when first seen here.
        while not stop.wait(0.01):
            records = replica.requests
            marks.extend((time.monotonic(), r.path) for r in records[len(marks) :])

    threading.Thread(target=follow, daemon=True).start()

    def stop_all() -> None:
        stop.set()
        replica.stop()

    return Served(replica.base_url, lambda: list(marks), stop_all), paths


def warm_up(served: Served, spider: str, folder: Path) -> None:
    """Have the server render every discovery answer newsmon asks for (sitemaps, the
    WordPress API, its searches), unmeasured: a discovery run that fetches no story. Story
    pages are rendered by ``serve``; without this, newsmon's run paid the server's first
    rendering of each search (0.25 s for the first) that the bare fetch never asks for."""
    warm = folder / "warm-up"
    warm.mkdir()
    env = {**os.environ, "NEWSMON_MAX_RUN_FETCHES": "0"}
    env.pop("NEWSMON_CONFIG", None)
    config = write_config(warm, served.base_url, spider)
    cmd = [sys.executable, "-m", "crawler", "-c", str(config), "--log-level", "ERROR", "crawl"]
    subprocess.run([*cmd, "--no-deliver"], env=env, cwd=REPO, capture_output=True, check=False)
    shutil.rmtree(warm)


def one_round(
    args: argparse.Namespace, served: Served, paths: set[str], folder: Path, number: int = 0
) -> Round:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NEWSMON_CONFIG", None)
    if args.workers is not None:
        env["NEWSMON_EXTRACT_WORKERS"] = args.workers
    # One run takes every story (the default per-run cap would defer most to later runs).
    env["NEWSMON_MAX_RUN_FETCHES"] = str(args.stories + 100)
    settings = [f"--setting={s}" for s in args.setting]
    bare_cmd = [sys.executable, __file__, "--bare-fetch", served.base_url + "sitemap_index.xml"]
    bare = measure("bare Scrapy fetch", [*bare_cmd, *settings], env, served, paths)
    print(f"bare fetch: {bare.pages} pages in {bare.seconds:.1f}s", flush=True)
    config = write_config(folder, served.base_url, args.spider)
    overrides = dict(_settings(args.setting + args.crawl_setting))
    main = ["-c", WITH_SETTINGS, json.dumps(overrides)] if overrides else ["-m", "crawler"]
    cmd = [
        sys.executable,
        *main,
        "-c",
        str(config),
        "--log-level",
        "WARNING",
        "crawl",
        "--no-deliver",
    ]
    if args.profile == "cprofile":
        cmd[1:1] = ["-m", "cProfile", "-o", str(folder / "crawl.prof")]
    elif args.profile == "py-spy":
        spy = Path(sys.executable).with_name("py-spy")
        cmd[:0] = [
            str(spy),
            "record",
            "--subprocesses",
            "--threads",
            "--format",
            "raw",
            "--rate",
            "200",
            "--output",
            str(folder / "crawl.stacks"),
            "--",
        ]
    checkouts = [REPO, *([Path(args.against).resolve()] if args.against else [])]
    runs: dict[Path, Run] = {}
    # Alternating which checkout goes first, so that neither always follows the bare fetch.
    for cwd in checkouts if number % 2 == 0 else checkouts[::-1]:
        for old in folder.glob("newsmon.db*"):
            old.unlink()
        name = f"newsmon ({args.spider})" + (f" {cwd.name}" if cwd != REPO else "")
        runs[cwd] = measure(name, cmd, env, served, paths, cwd=cwd)
        print(runs[cwd].output.strip()[-1500:])
        print(json.dumps(stored(folder / "newsmon.db")), flush=True)
    return Round(bare, runs[REPO], runs.get(checkouts[-1]) if args.against else None)


def _settings(pairs: list[str]) -> list[tuple[str, Any]]:
    return [(k, json.loads(v)) for k, _, v in (p.partition("=") for p in pairs)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--stories", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=20251103)
    parser.add_argument(
        "--spider",
        choices=("eqmint", "generic"),
        default="eqmint",
        help="eqmint: site rules (CSS selectors); generic: the generic extractor",
    )
    parser.add_argument("--workers", help="NEWSMON_EXTRACT_WORKERS for the crawl (default: auto)")
    parser.add_argument(
        "--rounds",
        type=int,
        help="alternate bare and newsmon runs this often and report the median ratio (default "
        "3, 1 with --profile): on a shared 2-core machine one round's ratio moves by 10%% "
        "from minute to minute",
    )
    parser.add_argument("--server", choices=("bulk", "replica"), default="bulk")
    parser.add_argument(
        "--profile",
        choices=("cprofile", "py-spy"),
        help="profile the crawl: cProfile (crawl process, main thread) or py-spy "
        "(sampling, every process and thread; pip install py-spy)",
    )
    parser.add_argument("--top", type=int, default=25, help="profile entries to print")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="a Scrapy setting for both crawls, e.g. AUTOTHROTTLE_ENABLED=false",
    )
    parser.add_argument(
        "--crawl-setting",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="a Scrapy setting for the newsmon crawl only",
    )
    parser.add_argument(
        "--against",
        metavar="DIR",
        help="another checkout of newsmon (git worktree add DIR REV), crawled in every round "
        "with this one, each run with this Python",
    )
    parser.add_argument("--bare-fetch", metavar="SITEMAP", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.rounds is None:
        args.rounds = 1 if args.profile else 3
    if args.profile and args.against:
        parser.error("--profile profiles this checkout alone: leave out --against")
    if args.bare_fetch:
        bare_fetch(args.bare_fetch, dict(_settings(args.setting)))
        return 0

    started = time.monotonic()
    served, paths = serve(args.stories, args.seed, args.server)
    print(
        f"site: {len(paths)} stories at {served.base_url}, ready in "
        f"{time.monotonic() - started:.1f}s ({args.server} server)",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="newsmon-bench-"))
    try:
        warm_up(served, args.spider, folder)
        rounds = [one_round(args, served, paths, folder, n) for n in range(args.rounds)]
        report(rounds, len(os.sched_getaffinity(0)))
        if args.profile == "cprofile":
            print_profile(folder / "crawl.prof", args.top)
        elif args.profile == "py-spy":
            print_stacks(folder / "crawl.stacks", args.top)
    finally:
        served.stop()
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
