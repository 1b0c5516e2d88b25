"""A crawl worker: the long-lived process in which `newsmon run` crawls its sites.

Started by the daemon's supervisor (``crawler.daemon.supervisor``) as
``python -m crawler -c CONFIG worker --fd N``, it keeps a reactor, the Scrapy settings and the
extraction pool alive and runs many crawls at once (``crawler.crawling.runtime``). It talks to
the daemon over the socket ``N`` in JSON lines:

    daemon -> worker  {"op": "config", "config": {...}, "path": "..."}  first, again on reload
                      {"op": "crawl", "id": 7, "site": "caliber", "hard_limit": 630.0}
                      {"op": "stop"}     cancel what runs, let it record its runs, exit
    worker -> daemon  {"op": "ready", "pid": 1234}
                      {"op": "done", "id": 7, "cancelled": null, "error": null, "rss": 123456789}
                      {"op": "stuck", "id": 7}   cancelled, but not ending: kill me

The daemon holds each site's lock for the crawl's duration; the crawl records its own run. The
worker dies with the daemon (a daemon killed outright leaves no crawl running unlocked), and
ends by itself when the daemon closes the socket.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from crawler.config import Config

logger = logging.getLogger(__name__)

MAX_MESSAGE = 256 * 1024 * 1024  # a config of tens of thousands of sites still fits
PATIENCE = 5.0  # seconds a cancelled crawl gets to record its run and end
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def serve(fd: int, log_level: str) -> int:
    """The worker's main: run the reactor until the daemon says stop or goes away."""
    from scrapy.utils.reactor import install_reactor

    from crawler.crawling.runtime import REACTOR
    from crawler.extract.orphan_guard import die_with_parent

    die_with_parent()
    install_reactor(REACTOR)
    from twisted.internet import reactor as installed
    from twisted.internet.defer import Deferred

    reactor: Any = installed  # Twisted's interfaces type the module poorly

    worker = Worker(socket.socket(fileno=fd), log_level)

    def start() -> None:
        done = Deferred.fromFuture(asyncio.ensure_future(worker.run()))
        done.addErrback(lambda failure: logger.error("worker failed: %s", failure.getTraceback()))
        done.addBoth(lambda _: reactor.stop())

    reactor.callWhenRunning(start)
    reactor.run(installSignalHandlers=False)
    return 0


class Worker:
    """Reads the daemon's messages and runs the crawls they ask for; see the module doc."""

    def __init__(self, sock: socket.socket, log_level: str) -> None:
        self.sock = sock
        self.log_level = log_level
        self.config: Config | None = None
        self.runtime: Any = None  # CrawlRuntime, made with the first config
        self.crawls: set[asyncio.Task[None]] = set()
        self.pool: Any = None
        self._writer: asyncio.StreamWriter | None = None

    async def run(self) -> None:
        reader, self._writer = await asyncio.open_connection(sock=self.sock, limit=MAX_MESSAGE)
        self._send({"op": "ready", "pid": os.getpid()})
        try:
            async for message in _messages(reader):
                op = message.get("op")
                if op == "config":
                    self._configure(message)
                elif op == "crawl":
                    self._start(message)
                elif op == "stop":
                    break
        finally:
            await self._finish()

    def _configure(self, message: dict[str, Any]) -> None:
        from crawler.crawling.runner import scrapy_settings
        from crawler.crawling.runtime import CrawlRuntime
        from crawler.extract import pool
        from pipelines.extract import extract_workers

        self.config = Config.model_validate({**message["config"], "path": Path(message["path"])})
        settings = scrapy_settings(self.config, {"LOG_LEVEL": self.log_level})
        settings.set("LOG_INSTALL_ROOT_HANDLER", False, priority="cmdline")
        if self.runtime is None:
            self.runtime = CrawlRuntime(settings, PATIENCE)
            logging.root.setLevel(self.log_level)
            if logging.root.level > logging.DEBUG:
                # Every crawl would list the same enabled components again; each run's own
                # lines (its start, its end, its record) say what the operator needs.
                logging.getLogger("scrapy.middleware").setLevel(logging.WARNING)
        else:
            self.runtime.configure(settings)
        if self.pool is None:
            # The worker's own reference keeps one extraction pool alive for every crawl,
            # instead of one pool per crawl that finds stories.
            workers = extract_workers(settings)
            if workers:
                pending = workers * settings.getint("NEWSMON_EXTRACT_PENDING", 8)
                self.pool = pool.acquire(workers, pending)
                self.pool.start()

    def _start(self, message: dict[str, Any]) -> None:
        task = asyncio.ensure_future(self._crawl(message))
        self.crawls.add(task)
        task.add_done_callback(self.crawls.discard)

    async def _crawl(self, message: dict[str, Any]) -> None:
        crawl_id = message["id"]
        reply: dict[str, Any] = {"op": "done", "id": crawl_id, "cancelled": None, "error": None}
        try:
            if self.config is None:
                raise RuntimeError("no configuration received")
            site = self.config.site(message["site"])
            ended = await self.runtime.crawl(
                self.config,
                site,
                float(message["hard_limit"]),
                lambda: self._send({"op": "stuck", "id": crawl_id}),
            )
            reply.update(cancelled=ended.forced, error=ended.error)
        except Exception as exc:  # e.g. a site removed from the config meanwhile
            logger.exception("crawl %s of %s could not run", crawl_id, message.get("site"))
            reply["error"] = f"the crawl could not start: {exc}"
        reply["rss"] = tree_rss(os.getpid())
        self._send(reply)

    async def _finish(self) -> None:
        """Cancel what still runs, give it PATIENCE to record its runs, stop the pool."""
        if self.crawls and self.runtime is not None:
            self.runtime.cancel_all("the daemon is stopping")
            await asyncio.wait(set(self.crawls), timeout=PATIENCE)
        if self.pool is not None:
            from crawler.extract import pool

            await pool.release(self.pool)
        if self._writer is not None:
            self._writer.close()

    def _send(self, message: dict[str, Any]) -> None:
        if self._writer is None or self._writer.is_closing():
            return
        self._writer.write(json.dumps(message).encode() + b"\n")


async def _messages(reader: asyncio.StreamReader) -> AsyncIterator[dict[str, Any]]:
    """The daemon's messages until it closes the socket (or dies)."""
    while True:
        try:
            line = await reader.readline()
        except (ConnectionError, ValueError) as exc:
            logger.error("the daemon's socket failed: %s", exc)
            return
        if not line:
            return
        yield json.loads(line)


def tree_rss(pid: int) -> int:
    """Resident memory of a process and all its descendants (the extraction pool), bytes."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/statm") as fh:
                total += int(fh.read().split()[1]) * PAGE_SIZE
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as fh:
                    todo += [int(child) for child in fh.read().split()]
        except (OSError, ValueError):
            continue  # gone meanwhile
    return total
