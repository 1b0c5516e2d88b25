"""Helpers for the hostile-input and fault tests: a tiny scriptable site, story pages, crawls
run as real subprocesses (with their peak memory), and reading the record back."""

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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from replica.stories import load_stories
from tests.conftest import REPO

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


def newsmon(
    config: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`newsmon -c CONFIG ARGS...` as a subprocess, with extra environment variables."""
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
