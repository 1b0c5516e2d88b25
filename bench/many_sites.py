"""Many sites, one machine: the daemon on a compressed schedule against 1,000 replica sites
(a script, not a test).

One local server answers for every site, each on its own loopback address (127.0.x.y, same
port), with a robots.txt, an RSS feed, a sitemap and a few stories, and conditional GET
(ETag / Last-Modified, 304). `newsmon run` crawls them all on one schedule (``--every``,
300 s by default: 1,000 sites every 5 minutes is the load of 3,000 on the usual 15).
The script then measures, on the daemon's whole process tree (daemon, workers, extraction
pools, crawl children; the server is not counted):

1. warm-up: every site's first crawl (stores its stories; not measured);
2. idle window: nothing changes; CPU per crawl = CPU used / runs finished;
3. publishing window: every ``--tick`` seconds ``--publish-share`` of the sites publish one
   story; CPU per new story = (CPU used - idle cost x runs) / new stories stored.

It prints those, the schedule lateness of every crawl started in the measured windows (start
against the planned time: from the daemon's log line where the daemon logs it, else from
the published schedule), peak RSS, and RSS over the first and the last 10% of the runs of the
publishing window (a long ``--publish`` window is a soak test of the workers' recycling).

    .venv/bin/python bench/many_sites.py                          # 1,000 sites, the code here
    .venv/bin/python bench/many_sites.py --sites 30 --code DIR    # another checkout's daemon
    .venv/bin/python bench/many_sites.py --daemon-arg=--workers=2
"""

from __future__ import annotations

import argparse
import asyncio
import email.utils
import hashlib
import json
import os
import random
import re
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
WORDS = [
    *("government", "minister", "market", "exports", "energy", "council", "report", "policy"),
    *("growth", "trade", "summit", "industry", "inflation", "central", "bank", "official"),
    *("statement", "agreement", "region", "price", "supply"),
]


# --- the sites ---------------------------------------------------------------------------------


@dataclass
class Site:
    """One replica site: its stories, newest last, and a version for its ETags."""

    number: int
    host: str
    stories: list[tuple[str, str, datetime]] = field(default_factory=list)  # slug, title, when
    version: int = 0

    def publish(self, when: datetime, rng: random.Random) -> None:
        n = len(self.stories) + 1
        title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} story {n} of site {self.number}"
        self.stories.append((f"story-{self.number}-{n}", title, when))
        self.version += 1


def story_page(site: Site, slug: str, title: str, when: datetime, origin: str) -> bytes:
    rng = random.Random(slug)
    paragraphs = "".join(
        "<p>" + " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + ".</p>"
        for _ in range(8)
    )
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": title,
            "datePublished": when.isoformat(),
            "author": {"@type": "Person", "name": f"Reporter {site.number}"},
        }
    )
    nav = "".join(f'<li><a href="/section/{w}/">{w}</a></li>' for w in WORDS[:12])
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>"
        f"<meta property='og:type' content='article'><meta property='og:title' content='{title}'>"
        f"<link rel='canonical' href='{origin}/news/{slug}/'>"
        f"<script type='application/ld+json'>{ld}</script></head><body>"
        f"<header><nav><ul>{nav}</ul></nav></header><main><article><h1>{title}</h1>"
        f"<div class='byline'>By Reporter {site.number}</div>{paragraphs}</article></main>"
        f"<aside class='related'><ul>{nav}</ul></aside><footer>(c) Site {site.number}</footer>"
        "</body></html>"
    ).encode()


def feed(site: Site, origin: str) -> bytes:
    items = "".join(
        f"<item><title>{title}</title><link>{origin}/news/{slug}/</link>"
        f"<guid>{origin}/news/{slug}/</guid>"
        f"<pubDate>{email.utils.format_datetime(when)}</pubDate></item>"
        for slug, title, when in reversed(site.stories[-20:])
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Site {site.number}</title><link>{origin}/</link><description>news</description>"
        f"{items}</channel></rss>"
    ).encode()


def sitemap(site: Site, origin: str) -> bytes:
    urls = "".join(
        f"<url><loc>{origin}/news/{slug}/</loc><lastmod>{when.isoformat()}</lastmod></url>"
        for slug, _, when in site.stories
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?>"
        f"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>"
    ).encode()


class Server:
    """Every site on its own loopback address, one asyncio loop in a thread."""

    def __init__(self, sites: list[Site]) -> None:
        self.sites = {s.host: s for s in sites}
        self.lock = threading.Lock()
        self.requests = 0
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        first = socket.create_server((next(iter(self.sites)), 0))
        self.port = first.getsockname()[1]
        others = list(self.sites)[1:]
        self.sockets = [first] + [socket.create_server((h, self.port)) for h in others]
        self.thread.start()
        self.ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        for sock in self.sockets:
            self.loop.run_until_complete(asyncio.start_server(self._serve, sock=sock))
        self.ready.set()
        self.loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                fields = (line.partition(":") for line in lines[1:])
                headers = {k.lower(): v.strip() for k, _, v in fields}
                writer.write(self._answer(host, path, headers))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    def _answer(self, host: str, path: str, headers: dict[str, str]) -> bytes:
        site = self.sites[host]
        origin = f"http://{host}:{self.port}"
        with self.lock:
            self.requests += 1
            body, etag, modified = self._route(site, path, origin)
        if body is None:
            return b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
        if etag and headers.get("if-none-match") == etag:
            return f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\n\r\n".encode()
        kind = "text/html" if path.startswith("/news/") else "application/xml"
        kind = "text/plain" if path == "/robots.txt" else kind
        extra = f"ETag: {etag}\r\nLast-Modified: {modified}\r\n" if etag else ""
        return (
            f"HTTP/1.1 200 OK\r\nContent-Type: {kind}; charset=utf-8\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body

    def _route(self, site: Site, path: str, origin: str) -> tuple[bytes | None, str, str]:
        latest = site.stories[-1][2] if site.stories else datetime(2025, 1, 1, tzinfo=UTC)
        modified = email.utils.format_datetime(latest, usegmt=True)
        tag = f'"{site.number}-{site.version}"'
        if path == "/robots.txt":
            return b"User-agent: *\nAllow: /\n", "", ""
        if path == "/feed.xml":
            return feed(site, origin), tag, modified
        if path == "/sitemap.xml":
            return sitemap(site, origin), tag, modified
        for slug, title, when in site.stories:
            if path == f"/news/{slug}/":
                page = story_page(site, slug, title, when, origin)
                digest = hashlib.md5(page).hexdigest()[:16]  # noqa: S324 - an ETag, not security
                return page, f'"{digest}"', email.utils.format_datetime(when, usegmt=True)
        return None, "", ""

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def make_sites(count: int, stories: int, rng: random.Random) -> list[Site]:
    start = datetime.now(UTC) - timedelta(hours=2)
    sites = []
    for n in range(count):
        site = Site(n, f"127.0.{1 + n // 250}.{1 + n % 250}")
        for k in range(stories):
            site.publish(start + timedelta(minutes=k), rng)
        sites.append(site)
    return sites


def write_config(folder: Path, sites: list[Site], port: int, every: int) -> Path:
    doc = {
        "database": "newsmon.db",
        "watches": [
            {"name": "summit", "query": "summit"},
            {"name": "bank", "query": '"central bank"'},
        ],
        "sites": [
            {
                "name": f"s{s.number:04d}",
                "spider": "generic",
                "url": f"http://{s.host}:{port}/",
                "feeds": [f"http://{s.host}:{port}/feed.xml"],
                "sitemaps": [f"http://{s.host}:{port}/sitemap.xml"],
                "wordpress": False,
                "article_pattern": "/news/",
                "every": f"{every}s",
            }
            for s in sites
        ],
    }
    path = folder / "newsmon.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# --- measuring the daemon ---------------------------------------------------------------------


def tree(root: int) -> list[int]:
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return pids


def role(pid: int, root: int) -> str:
    """What a process of the daemon's tree is: the daemon, a crawl worker (or, before the
    workers, a crawl child), or an extraction pool process."""
    if pid == root:
        return "daemon"
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            words = fh.read().split(b"\0")
    except OSError:
        return "gone"
    return "worker" if b"worker" in words else "crawl" if b"crawl" in words else "pool"


def usage(root: int) -> tuple[float, dict[str, int]]:
    """CPU seconds of the tree, reaped children included, and its RSS in bytes by role."""
    cpu, rss = 0.0, {}
    for pid in tree(root):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                fields = fh.read().rpartition(")")[2].split()
            with open(f"/proc/{pid}/statm") as fh:
                resident = int(fh.read().split()[1]) * PAGE
        except OSError:
            continue
        kind = role(pid, root)
        rss[kind] = rss.get(kind, 0) + resident
        cpu += sum(int(x) for x in fields[11:15]) / TICK  # utime stime cutime cstime
    return cpu, rss


@dataclass
class Sampler:
    root: int
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # time, cpu, rss
    roles: list[dict[str, int]] = field(default_factory=list)  # rss by role, per sample
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.wait(0.5):
            cpu, rss = usage(self.root)
            self.samples.append((time.time(), cpu, sum(rss.values())))
            self.roles.append(rss)

    def cpu_at(self, when: float) -> float:
        before = [s for s in self.samples if s[0] <= when]
        return before[-1][1] if before else 0.0


def runs(db: Path, since: float = 0.0, until: float = 1e12) -> list[dict[str, Any]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(db, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT * FROM runs WHERE status != 'running'").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()
    found = []
    for row in rows:
        done = datetime.fromisoformat(row["finished_at"]).timestamp()
        if since <= done < until:
            found.append({**dict(row), "done": done})
    return found


LAUNCH = re.compile(
    r"^(\S+ \S+) INFO crawler\.daemon\.\w+: (s\d+): crawl started \(pid \d+(?:, ([\d.]+)s after)?"
)
SCHEDULED = re.compile(
    r"crawler\.daemon\.service: (s\d+): scheduled \(every ([^)]+)\), next run (\S+)"
)


def lateness(log: Path, since: float, until: float) -> tuple[list[float], str]:
    """Seconds each crawl started after its planned time, for starts in [since, until)."""
    first: dict[str, tuple[datetime, int]] = {}
    late, source = [], "the daemon's log"
    for line in log.read_text(errors="replace").splitlines():
        scheduled = SCHEDULED.search(line)
        if scheduled:
            hours, minutes, seconds = (int(x) for x in scheduled[2].split(":"))  # 0:05:00
            every = hours * 3600 + minutes * 60 + seconds
            first[scheduled[1]] = (datetime.fromisoformat(scheduled[3]), every)
            continue
        launch = LAUNCH.match(line)
        if not launch:
            continue
        at = datetime.strptime(launch[1], "%Y-%m-%d %H:%M:%S,%f").astimezone()
        if not since <= at.timestamp() < until:
            continue
        if launch[3] is not None:
            late.append(float(launch[3]))
        elif launch[2] in first:  # older daemons do not log it: from the schedule they published
            source = "the published schedule (to the second)"
            start, every = first[launch[2]]
            periods = max(0, int((at - start).total_seconds() // every))
            late.append((at - (start + timedelta(seconds=periods * every))).total_seconds())
    return late, source


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- the run ----------------------------------------------------------------------------------


def wait_for(what: str, probe: Any, timeout: float, daemon: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return
        if daemon.poll() is not None:
            raise SystemExit(f"the daemon exited ({daemon.returncode}) while waiting for {what}")
        time.sleep(1)
    raise SystemExit(f"timed out after {timeout:.0f}s waiting for {what}")


def publisher(
    sites: list[Site], server: Server, args: argparse.Namespace, stop: threading.Event
) -> None:
    rng = random.Random(args.seed + 1)
    while not stop.wait(args.tick):
        chosen = rng.sample(sites, max(1, round(args.publish_share * len(sites))))
        with server.lock:
            for site in chosen:
                site.publish(datetime.now(UTC).replace(microsecond=0), rng)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--stories", type=int, default=3, help="stories per site at the start")
    parser.add_argument("--every", type=int, default=300, help="schedule of every site, seconds")
    parser.add_argument("--idle", type=float, help="idle window, s (default: --every)")
    parser.add_argument("--publish", type=float, help="publishing window, s (default: --every)")
    parser.add_argument("--tick", type=float, default=10.0, help="seconds between publications")
    parser.add_argument("--publish-share", type=float, default=0.03, help="sites per tick")
    parser.add_argument("--warmup-timeout", type=float, default=1800)
    parser.add_argument("--code", default=str(REPO), help="the newsmon checkout whose daemon runs")
    parser.add_argument("--daemon-arg", action="append", default=[], help="passed to `newsmon run`")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    idle, publish = args.idle or args.every, args.publish or args.every

    rng = random.Random(args.seed)
    sites = make_sites(args.sites, args.stories, rng)
    server = Server(sites)
    server.start()
    folder = Path(tempfile.mkdtemp(prefix="newsmon-many-"))
    config = write_config(folder, sites, server.port, args.every)
    db, log = folder / "newsmon.db", folder / "daemon.log"
    env = {**os.environ, "PYTHONPATH": str(Path(args.code).resolve()), "PYTHONUNBUFFERED": "1"}
    env.pop("NEWSMON_CONFIG", None)
    where = f"127.0.x.y:{server.port}, every {args.every}s; code {args.code}"
    print(f"{args.sites} sites on {where}", flush=True)
    with log.open("wb") as out:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "crawler", "-c", str(config), "--log-level", "INFO", "run",
             *args.daemon_arg],
            cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    sampler = Sampler(daemon.pid)
    threading.Thread(target=sampler.run, daemon=True).start()
    stop_publishing = threading.Event()
    try:
        started = time.time()
        wait_for(
            "every site's first run",
            lambda: len({r["site"] for r in runs(db)}) >= args.sites,
            args.warmup_timeout,
            daemon,
        )
        t0 = time.time()
        print(f"warm-up: every site crawled once after {t0 - started:.0f}s", flush=True)
        time.sleep(idle)
        t1 = time.time()
        threading.Thread(
            target=publisher, args=(sites, server, args, stop_publishing), daemon=True
        ).start()
        time.sleep(publish)
        t2 = time.time()
    finally:
        stop_publishing.set()
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(120)
        except subprocess.TimeoutExpired:
            daemon.kill()
        sampler.stop.set()
        server.stop()
    report(args, sampler, db, log, (started, t0, t1, t2), daemon.returncode)
    if args.keep:
        print(f"kept {folder}")
    else:
        for path in sorted(folder.iterdir()):
            path.unlink()
        folder.rmdir()
    return 0


def report(
    args: argparse.Namespace,
    sampler: Sampler,
    db: Path,
    log: Path,
    times: tuple[float, float, float, float],
    code: int | None,
) -> None:
    started, t0, t1, t2 = times
    idle_runs, busy_runs = runs(db, t0, t1), runs(db, t1, t2)
    idle_cpu = sampler.cpu_at(t1) - sampler.cpu_at(t0)
    busy_cpu = sampler.cpu_at(t2) - sampler.cpu_at(t1)
    per_idle = idle_cpu / max(1, len(idle_runs))
    new = sum(r["articles_new"] or 0 for r in busy_runs)
    per_story = (busy_cpu - per_idle * len(busy_runs)) / new if new else float("nan")
    late, source = lateness(log, t0, t2)
    # Memory is compared between runs doing the same work: the publishing window's first and
    # last 10% (idle runs never wake the extraction pool's pages up).
    measured = sorted(busy_runs, key=lambda r: r["done"])
    tenth = max(1, len(measured) // 10)

    def rss_between(a: float, b: float) -> float:
        values = [s[2] for s in sampler.samples if a <= s[0] <= b]
        values = values or [s[2] for s in sampler.samples if s[0] >= b][:1]  # a short span
        return statistics.median(values) / 2**20 if values else float("nan")

    first = rss_between(measured[0]["done"], measured[tenth - 1]["done"]) if measured else 0
    last = rss_between(measured[-tenth]["done"], measured[-1]["done"]) if measured else 0
    peak = max((s[2] for s in sampler.samples), default=0) / 2**20
    by_role = ""
    if measured:
        at = [i for i, s in enumerate(sampler.samples) if s[0] >= measured[tenth - 1]["done"]][:1]
        if at:
            end = [i for i, s in enumerate(sampler.samples) if s[0] <= measured[-1]["done"]]
            early, late_roles = sampler.roles[at[0]], sampler.roles[end[-1]]
            by_role = ", ".join(
                f"{k} {early.get(k, 0) / 2**20:.0f} -> {late_roles.get(k, 0) / 2**20:.0f}"
                for k in sorted(set(early) | set(late_roles))
            )
    errors = sum(1 for r in measured if r["status"] == "error")
    window = (t2 - t0) or 1
    load = (idle_cpu + busy_cpu) / window
    ratio = last / first if first else float("nan")
    idle_errors = sum(r["status"] == "error" for r in idle_runs)
    capacity = 0.5 * 900 / per_idle if per_idle else 0
    p50, p99 = percentile(late, 0.5), percentile(late, 0.99)
    print()
    print(
        f"sites {args.sites}, every {args.every}s, windows: idle {t1 - t0:.0f}s, publishing "
        f"{t2 - t1:.0f}s (every {args.tick:g}s {args.publish_share:.0%} of the sites publish)"
    )
    rows = [
        ("warm-up (first crawl of every site)", f"{t0 - started:8.0f} s"),
        ("runs: idle window", f"{len(idle_runs):8d}   (errors {idle_errors})"),
        ("runs: publishing window", f"{len(busy_runs):8d}   new stories {new}"),
        ("runs: errors, both windows", f"{errors:8d}"),
        ("CPU per idle site crawl", f"{per_idle:8.3f} s"),
        ("CPU per new story", f"{per_story:8.3f} s"),
        ("CPU used, both windows", f"{load:8.2f} cores on average"),
        ("sites per 2 cores at 25% CPU, 15 min", f"{capacity:8.0f}   (idle crawls only)"),
        (
            "lateness p50 / p99 / max",
            f"{p50:6.1f} / {p99:.1f} / {max(late, default=float('nan')):.1f} s  "
            f"({len(late)} starts; from {source})",
        ),
        ("RSS peak (daemon tree)", f"{peak:8.0f} MB"),
        ("RSS first / last 10% of runs", f"{first:8.0f} / {last:.0f} MB  (last/first {ratio:.2f})"),
        ("", "(runs of the publishing window)"),
        ("RSS by process role (MB)", by_role),
        ("daemon exit status", str(code)),
    ]
    for label, value in rows:
        print(f"{label:<38} {value}")


if __name__ == "__main__":
    sys.exit(main())
