"""Helpers shared by the tests: replica sites and configs pointing at them, crawls run as real
subprocesses, stories saved the real way, a tiny scriptable site for hostile input, and reading
the record back."""

from __future__ import annotations

import html
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlite_utils
import yaml

from crawler.config import Config, load_config
from crawler.db import connect, transaction
from crawler.db.stories import SaveContext, Saved, save_story
from crawler.dedup.fingerprints import body_hash, content_hash
from crawler.story import Story
from replica.server import ReplicaServer
from replica.sites import caliber, eqmint
from replica.stories import load_stories

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"

WATCHES = [
    {"name": "rare-earths", "query": '"rare earths"'},
    {"name": "takaichi", "query": "Takaichi"},
]


def write_config(tmp_path: Path, sites: list[dict], **extra: object) -> Path:
    """A config file in tmp_path with the seed watches, the given sites, and ``extra`` keys."""
    doc = {"database": "newsmon.db", "watches": WATCHES, "sites": sites, **extra}
    path = tmp_path / "newsmon.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def seed_sites(caliber_server: ReplicaServer, eqmint_server: ReplicaServer) -> list[dict]:
    """The shipped config's two sites, pointed at the replica servers."""
    return [
        {"name": "caliber", "spider": "caliber", "url": caliber_server.base_url},
        {"name": "eqmint", "spider": "eqmint", "url": eqmint_server.base_url},
    ]


def crawl_seed_replicas(folder: Path) -> Path:
    """A config in ``folder`` whose database holds one crawl of both replica sites (for
    module-scoped fixtures of tests that only read the result)."""
    with ReplicaServer(caliber()) as cal, ReplicaServer(eqmint()) as eqm:
        config = write_config(folder, seed_sites(cal, eqm))
        result = run_newsmon(config, "crawl", "--no-deliver")
    assert result.returncode == 0, result.stdout + result.stderr
    return config


def run_newsmon(
    config: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`newsmon -c CONFIG ARGS...` as a real subprocess (a crawl needs a fresh Twisted
    reactor), with extra environment variables."""
    full = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    full.pop("NEWSMON_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "crawler", "-c", str(config), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=full,
    )


# --- alerts ----------------------------------------------------------------------------------

WATCH_QUERIES = [("rare-earths", '"rare earths"'), ("takaichi", "Takaichi")]
PASSWORD_ENV = "NEWSMON_TEST_SMTP_PASSWORD"
PASSWORD = "hunter2-Sup3rS3cret"
WEBHOOK_ENV = "NEWSMON_TEST_SLACK_WEBHOOK"
HOSTILE_TITLE = "Evil\r\nBcc: x@evil.test <script>alert(1)</script> <!channel> <http://x|y>"


def story(
    slug: str,
    title: str,
    text: str,
    site: str = "caliber",
    published: str | None = "2025-10-28T10:06:00+04:00",
) -> Story:
    """A Story as the pipelines would hand it to storage."""
    s = Story(url=f"https://caliber.az/en/post/{slug}", site=site, title=title, text=text)
    s.published = published
    s.content_hash = content_hash(title, text)
    s.body_hash = body_hash(text)
    return s


def save(
    db: sqlite_utils.Database,
    item: Story,
    channels: tuple[str, ...],
    routes: Mapping[str, tuple[str, ...]] | None = None,
) -> Saved:
    """Store one story in its own transaction; matching queues its alerts (on the channels
    ``routes`` gives each watch, when given)."""
    ctx = SaveContext(watches=WATCH_QUERIES, channels=channels, routes=routes)
    with transaction(db):
        return save_story(db, item, ctx)


def email_cfg(port: int, mode: str = "instant", **extra: Any) -> dict[str, Any]:
    return {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "alerts@newsmon.test",
        "to": ["analyst@newsmon.test", "desk@newsmon.test"],
        "mode": mode,
        "timeout": 5,
        **extra,
    }


def slack_cfg(mode: str = "instant") -> dict[str, Any]:
    return {"webhook_url_env": WEBHOOK_ENV, "mode": mode, "timeout": 5}


APPRISE_ENV = "NEWSMON_TEST_APPRISE_URL"


def channel(name: str, kind: str, **settings: Any) -> dict[str, Any]:
    """One entry of ``alerts.channels``."""
    return {"name": name, "type": kind, **settings}


def write_alerts_config(
    tmp_path: Path, routes: Mapping[str, list[str]] | None = None, **channels: Any
) -> Path:
    """A config file in tmp_path with the test watches and these alert settings (``alerts:``
    keys); ``routes`` gives watches their ``channels``."""
    watches = [{"name": n, "query": q} for n, q in WATCH_QUERIES]
    for watch in watches:
        if routes is not None and watch["name"] in routes:
            watch["channels"] = routes[watch["name"]]
    raw = {
        "database": "newsmon.db",
        "watches": watches,
        "alerts": {"backoff": "1m", "max_attempts": 4, **channels},
    }
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "newsmon.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def setup(
    tmp_path: Path, routes: Mapping[str, list[str]] | None = None, **channels: Any
) -> tuple[Config, sqlite_utils.Database]:
    """The loaded config and an open database for it."""
    config = load_config(write_alerts_config(tmp_path, routes, **channels))
    return config, connect(config.database)


def save_routed(db: sqlite_utils.Database, config: Config, *items: Story) -> list[Saved]:
    """Store stories as a crawl with this config would: its channels, its routes."""
    return [save(db, item, tuple(config.alerts.named), config.routes()) for item in items]


def subject(msg: EmailMessage) -> str:
    """The Subject as a mail client shows it (unfolded, outer space trimmed)."""
    return " ".join(str(msg["Subject"]).split())


def alert_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM alerts ORDER BY id"))


RARE = (
    "Tokyo and Washington signed a framework on rare earths supply on Tuesday. "
    "The deal covers magnets and refining."
)
TAKAICHI = "Prime Minister Takaichi met the delegation in Tokyo. Talks went well."


# --- hostile input and faults ---------------------------------------------------------------

# Short limits so that fault tests stay fast; each is an environment override newsmon reads.
FAST_ENV = {
    "NEWSMON_DOWNLOAD_TIMEOUT": "2",
    "NEWSMON_RETRY_AFTER_MAX": "1",
    "NEWSMON_RETRY_429_DELAY": "0.5",
}


@dataclass
class Reply:
    """What the static site answers for one path."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - name fixed by http.server
        site = self.server.site
        with site.lock:
            site.requests.append(self.path)
            reply = site.routes.get(self.path) or Reply(b"not found", "text/plain", 404)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    site: StaticSite

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a crawler hanging up on an oversized answer is what some tests want


class StaticSite:
    """An HTTP server on 127.0.0.1 answering fixed replies per path (404 otherwise), and
    recording every path asked for in ``requests``."""

    def __init__(self, routes: Mapping[str, Reply] | None = None) -> None:
        self.routes: dict[str, Reply] = dict(routes or {})
        self.requests: list[str] = []
        self.lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.site = self
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StaticSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return self.origin + path


def filler(index: int) -> list[str]:
    """The paragraphs of a real-looking story, a different one for each ``index`` (so that
    stories of a test site are not near-duplicates of each other)."""
    stories = load_stories("courier")
    return list(stories[index % len(stories)].paragraphs)


def article_page(
    title: str,
    paragraphs: list[str],
    *,
    meta_charset: str | None = "utf-8",
    lang: str = "en",
    extra_head: str = "",
) -> str:
    """A plain news story page that declares itself an article (JSON-LD and og:type)."""
    ld = json.dumps({"@type": "NewsArticle", "headline": title, "inLanguage": lang})
    charset = f'<meta charset="{meta_charset}">' if meta_charset else ""
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html lang="{lang}"><head>{charset}<title>{html.escape(title)}</title>'
        f'<meta property="og:type" content="article">'
        f'<script type="application/ld+json">{ld}</script>{extra_head}</head>'
        f"<body><article><h1>{html.escape(title)}</h1>{body}</article></body></html>"
    )


def sitemap(urls: list[str]) -> bytes:
    """A plain XML sitemap listing ``urls``."""
    entries = "".join(f"<url><loc>{html.escape(u)}</loc></url>" for u in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
    ).encode()


@dataclass
class Measured:
    """A finished subprocess: exit status, output, wall time and peak resident memory."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_kb: int


def newsmon_measured(
    config: Path, tmp: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> Measured:
    """Like ``newsmon``, sampling the process's VmHWM (peak RSS) from /proc while it runs."""
    full = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    full.pop("NEWSMON_CONFIG", None)
    out, err = tmp / "stdout.txt", tmp / "stderr.txt"
    started = time.monotonic()
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "-c", str(config), *args],
            stdout=stdout,
            stderr=stderr,
            cwd=REPO,
            env=full,
        )
        peak = 0
        while proc.poll() is None:
            peak = max(peak, _vm_hwm_kb(proc.pid))
            if time.monotonic() - started > timeout:
                proc.kill()
                raise TimeoutError(f"newsmon {' '.join(args)} ran longer than {timeout} s")
            time.sleep(0.02)
    seconds = time.monotonic() - started
    return Measured(proc.returncode, out.read_text(), err.read_text(), seconds, peak)


def _vm_hwm_kb(pid: int) -> int:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # exited between poll() and the read
        return 0
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def database_bytes(db: Path) -> bytes:
    """The SQLite file with its write-ahead log: every byte the database holds."""
    files = [db, db.with_name(db.name + "-wal")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def rows(db: Path, sql: str, *params: object) -> list[tuple]:
    """Every row of a query on the database file."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def runs(db: Path) -> dict[str, tuple[str, int, int, int, str | None]]:
    """The last run of each site: (status, pages, articles_new, errors, error)."""
    found = rows(
        db, "SELECT site, status, pages, articles_new, errors, error FROM runs ORDER BY id"
    )
    return {site: tuple(rest) for site, *rest in found}  # type: ignore[misc]


def stored(db: Path, site: str | None = None) -> dict[str, tuple[str, str]]:
    """url -> (title, text) of the stored stories (of one site)."""
    query = "SELECT url, title, text FROM articles" + (" WHERE site = ?" if site else "")
    return {url: (title, text) for url, title, text in rows(db, query, *([site] if site else []))}


def lines_with(text: str, *needles: str) -> Iterator[str]:
    """The lines of ``text`` containing any of ``needles``."""
    return (line for line in text.splitlines() if any(n in line for n in needles))
