"""Extraction in worker processes (``crawler.extract.pool``): the same record as a single-process
crawl, crashed workers replaced, a cap on work in flight."""

from __future__ import annotations

import asyncio
import itertools
import os
import pickle
import re
import signal
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from scrapy import Spider
from scrapy.exceptions import DropItem
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

import pipelines.extract
from crawler.extract import pool
from crawler.extract.article import SiteRules
from crawler.extract.pool import ExtractPool, WorkerCrashed
from crawler.story import Page, Story
from pipelines.extract import ExtractPipeline, extract_workers
from replica.bulk import BulkServer, bulk
from replica.server import ReplicaServer
from tests.helpers import run_newsmon, write_config

COLUMNS = "url, title, author, published, language, text, content_hash"


# --- functions the workers run (importable by name, as the pool needs) -------------------------


def echo(value: str) -> str:
    return value


def pair(first: str, second: int) -> str:
    return f"{first}:{second}"


def slow_echo(value: str, seconds: float = 0.3) -> str:
    time.sleep(seconds)
    return value


def identity(value: object) -> tuple[int, int, object]:
    """Which worker got ``value``, which object it was there, and the value."""
    return os.getpid(), id(value), value


def niceness(seconds: float = 0.0) -> tuple[int, int]:
    """Which worker ran the call, and at what niceness."""
    time.sleep(seconds)
    return os.getpid(), os.getpriority(os.PRIO_PROCESS, 0)


def crash(*args: object) -> None:
    os._exit(3)  # what a segfault in a C extension looks like to the pool


class Unpicklable(Exception):
    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("not today")


def fail(kind: str) -> None:
    raise (ValueError if kind == "value" else Unpicklable)(f"{kind} failed")


def crash_once(marker: str) -> str:
    """Crash the worker the first time (leaving a marker), succeed after."""
    if not os.path.exists(marker):
        Path(marker).touch()
        os._exit(3)
    return "survived"


# --- same record as a single-process crawl -----------------------------------------------------


@pytest.fixture
def bulk_server() -> Iterator[BulkServer]:
    with BulkServer(bulk(40)) as server:
        yield server


def crawl_rows(
    folder: Path, sites: list[dict[str, object]], workers: str, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[object, ...]]:
    folder.mkdir()
    config = write_config(folder, sites)
    monkeypatch.setenv("NEWSMON_EXTRACT_WORKERS", workers)
    result = run_newsmon(config, "--log-level", "INFO", "crawl", "--no-deliver", timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    expected = "in the crawl process" if workers == "0" else f"in {workers} worker processes"
    assert f"extracting pages {expected}" in result.stderr
    conn = sqlite3.connect(folder / "newsmon.db")
    try:
        return conn.execute(f"SELECT {COLUMNS} FROM articles ORDER BY url").fetchall()
    finally:
        conn.close()


def test_worker_pool_stores_exactly_what_a_single_process_crawl_stores(
    tmp_path: Path,
    caliber_server: ReplicaServer,
    eqmint_server: ReplicaServer,
    bulk_server: BulkServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sites: list[dict[str, object]] = [
        {"name": "caliber", "spider": "caliber", "url": caliber_server.base_url},
        {"name": "eqmint", "spider": "eqmint", "url": eqmint_server.base_url},
        # No site rules: the generic extractor (trafilatura) runs in the workers.
        {
            "name": "bulk",
            "spider": "generic",
            "url": bulk_server.base_url,
            "sitemaps": [bulk_server.base_url + "sitemap_index.xml"],
            "article_pattern": r"-\d+/$",
        },
    ]
    single = crawl_rows(tmp_path / "single", sites, "0", monkeypatch)
    pooled = crawl_rows(tmp_path / "pooled", sites, "2", monkeypatch)
    assert len(single) >= 60
    assert pooled == single


def test_workers_start_while_discovery_runs_and_not_at_all_for_an_unchanged_site(
    tmp_path: Path, bulk_server: BulkServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their start-up (~0.5 s of imports) overlaps the fetching instead of holding up the
    first page; a run with nothing new to fetch costs no processes."""
    site = {
        "name": "bulk",
        "spider": "generic",
        "url": bulk_server.base_url,
        "sitemaps": [bulk_server.base_url + "sitemap_index.xml"],
        "article_pattern": r"-\d+/$",
    }
    config = write_config(tmp_path, [site])
    monkeypatch.setenv("NEWSMON_EXTRACT_WORKERS", "2")
    starting = "starting the extraction workers"
    story_fetched = re.compile(r"Crawled \(200\).*-\d+/>")

    def crawl() -> list[str]:
        result = run_newsmon(config, "--log-level", "DEBUG", "crawl", "--no-deliver", timeout=240)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stderr.splitlines()

    first = crawl()
    story_fetches = [n for n, line in enumerate(first) if story_fetched.search(line)]
    started = [n for n, line in enumerate(first) if starting in line]
    assert len(story_fetches) == 40 and len(started) == 1
    assert started[0] < story_fetches[0]
    again = crawl()
    assert not [line for line in again if starting in line]
    assert not [line for line in again if story_fetched.search(line)]


# --- the pool ----------------------------------------------------------------------------------


@pytest.fixture
def two_workers() -> Iterator[ExtractPool]:
    extract_pool = ExtractPool(2, 4)
    yield extract_pool
    extract_pool.shutdown()


def test_a_call_that_kills_its_worker_fails_alone_and_the_pool_recovers(
    two_workers: ExtractPool,
) -> None:
    async def scenario() -> list[str]:
        with pytest.raises(WorkerCrashed):
            await two_workers.run(crash)
        return await asyncio.gather(*(two_workers.run(echo, str(n)) for n in range(6)))

    assert asyncio.run(scenario()) == [str(n) for n in range(6)]
    assert two_workers.crashes == 2  # the crashing call was tried twice


def test_calls_caught_in_a_crash_are_tried_again(two_workers: ExtractPool, tmp_path: Path) -> None:
    async def scenario() -> list[str]:
        bystander = asyncio.ensure_future(two_workers.run(slow_echo, "bystander", 1.0))
        await asyncio.sleep(0.3)  # the bystander is running when the other call crashes
        culprit = two_workers.run(crash_once, str(tmp_path / "crashed"))
        return list(await asyncio.gather(bystander, culprit))

    assert asyncio.run(scenario()) == ["bystander", "survived"]
    assert two_workers.crashes == 1


def test_the_last_worker_is_a_spare_at_the_lowest_priority_holding_one_page_at_most(
    two_workers: ExtractPool,
) -> None:
    """The spare takes a call only when the other worker is behind, one at a time, and
    runs it at nice 19; a spare that dies is replaced by a spare."""
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    lowest = min(ours + pool.SPARE_NICE, 19)

    async def at_once(count: int) -> list[tuple[int, int]]:
        return await asyncio.gather(*(two_workers.run(niceness, 0.2) for _ in range(count)))

    Answers = list[tuple[int, int]]

    async def scenario() -> tuple[set[tuple[int, int]], Answers, int, Answers]:
        # Calls that never queue up all go to the regular worker, at the crawl's priority.
        one_by_one = {await two_workers.run(niceness) for _ in range(6)}
        together = await at_once(4)  # the pool's cap: 4 in flight
        spare = two_workers._workers[1].process
        os.kill(spare.pid, signal.SIGKILL)
        spare.join(5)
        await asyncio.sleep(0.2)  # the loop sees the socket close
        after = await at_once(4)
        return one_by_one, together, spare.pid, after

    one_by_one, together, spare, after = asyncio.run(scenario())
    (regular,) = one_by_one
    assert regular[1] == ours
    assert sorted(together) == sorted([regular] * 3 + [(spare, lowest)])
    assert two_workers.crashes == 1 and two_workers._workers[1].spare
    assert sorted(nice for _, nice in after) == [ours] * 3 + [lowest]


def test_a_single_worker_is_no_spare() -> None:
    one_worker = ExtractPool(1, 2)
    try:
        answers = asyncio.run(asyncio.wait_for(one_worker_calls(one_worker), 30))
    finally:
        one_worker.shutdown()
    assert {nice for _, nice in answers} == {os.getpriority(os.PRIO_PROCESS, 0)}


async def one_worker_calls(extract_pool: ExtractPool) -> list[tuple[int, int]]:
    return await asyncio.gather(*(extract_pool.run(niceness, 0.05) for _ in range(4)))


def test_a_worker_killed_while_idle_is_replaced(two_workers: ExtractPool) -> None:
    """The OOM killer picks a worker between calls: the next calls find a new one."""

    async def scenario() -> list[str]:
        await asyncio.gather(*(two_workers.run(echo, "up") for _ in range(2)))
        victim = two_workers._workers[0].process
        os.kill(victim.pid, signal.SIGKILL)
        victim.join(5)
        await asyncio.sleep(0.2)  # the loop sees the socket close
        return await asyncio.gather(*(two_workers.run(echo, str(n)) for n in range(6)))

    assert asyncio.run(scenario()) == [str(n) for n in range(6)]
    assert two_workers.crashes == 1


def test_errors_raised_in_a_worker_reach_the_caller(two_workers: ExtractPool) -> None:
    async def scenario() -> str:
        with pytest.raises(ValueError, match="value failed"):
            await two_workers.run(fail, "value")
        # An exception that cannot be pickled back still fails its call, with its message.
        with pytest.raises(RuntimeError, match="Unpicklable: other failed"):
            await two_workers.run(fail, "other")
        return await two_workers.run(echo, "still here")

    assert asyncio.run(scenario()) == "still here"
    assert two_workers.crashes == 0


def test_large_calls_and_answers_go_through_whole(two_workers: ExtractPool) -> None:
    """Pages of megabytes fill the sockets both ways; nothing is cut or mixed up."""
    values = [os.urandom(n).hex() for n in (3 << 20, 1, 2 << 20, 70_000)]

    async def scenario() -> list[str]:
        return await asyncio.gather(*(two_workers.run(echo, v) for v in values))

    assert asyncio.run(scenario()) == values


def test_the_event_loop_runs_on_while_the_workers_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first start waits for the fork server to import the extraction modules; the
    reactor must go on meanwhile (a slow start is simulated: the fork server of this test
    process may be up already)."""
    starting = pool._Worker.__init__

    def slow_start(self: object, context: object, *spare: bool) -> None:
        time.sleep(0.5)
        starting(self, context, *spare)  # type: ignore[arg-type]

    monkeypatch.setattr(pool._Worker, "__init__", slow_start)
    one_worker = ExtractPool(1, 2)
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def scenario() -> list[str]:
        ticking = asyncio.ensure_future(ticker())
        try:
            return await asyncio.gather(one_worker.run(echo, "a"), one_worker.run(echo, "b"))
        finally:
            ticking.cancel()

    try:
        assert asyncio.run(scenario()) == ["a", "b"]
    finally:
        one_worker.shutdown()
    assert len(one_worker._workers) == 0 and len(ticks) > 20
    assert max(b - a for a, b in itertools.pairwise(ticks)) < 0.3


def test_workers_started_ahead_serve_the_calls_and_a_failed_start_is_tried_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    starting = pool._Worker.__init__
    failures = [OSError("no fork server today")]

    def flaky_start(self: object, context: object, *spare: bool) -> None:
        if failures:
            raise failures.pop()
        starting(self, context, *spare)  # type: ignore[arg-type]

    monkeypatch.setattr(pool._Worker, "__init__", flaky_start)
    one_worker = ExtractPool(1, 2)

    async def start_ahead() -> bool:
        one_worker.start_soon()
        while one_worker._starting is not None and not one_worker._starting.done():
            await asyncio.sleep(0.01)
        return one_worker.started

    async def scenario() -> tuple[bool, list[str]]:
        one_worker.start_soon()
        first = one_worker._starting
        one_worker.start_soon()  # already starting: no second start
        assert one_worker._starting is first is not None
        while not one_worker.started:
            await asyncio.sleep(0.01)
        return one_worker.started, await asyncio.gather(one_worker.run(echo, "a"))

    try:
        assert asyncio.run(start_ahead()) is False  # failed, and forgotten
        assert one_worker._starting is None
        assert asyncio.run(scenario()) == (True, ["a"])
        assert len(one_worker._workers) == 1
    finally:
        one_worker.shutdown()


def test_a_pool_shut_down_starts_anew_on_the_same_event_loop() -> None:
    one_worker = ExtractPool(1, 2)

    async def scenario() -> list[str]:
        answers = [await one_worker.run(echo, "a")]
        one_worker.shutdown()
        one_worker.start_soon()
        answers.append(await asyncio.wait_for(one_worker.run(echo, "b"), 30))
        return answers

    try:
        assert asyncio.run(scenario()) == ["a", "b"]
        assert one_worker.started
    finally:
        one_worker.shutdown()


def test_the_fork_server_outlives_the_event_loop_that_started_the_workers() -> None:
    """The fork server dies with the thread that started it (orphan_guard): a pool started
    within one asyncio.run must leave it serving the next pools, whatever ran the start."""
    from multiprocessing import forkserver

    forkserver._forkserver._stop()  # type: ignore[attr-defined]  # started anew below
    first = ExtractPool(1, 2)
    try:
        assert asyncio.run(first.run(echo, "a")) == "a"
    finally:
        first.shutdown()
    server = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    time.sleep(0.5)  # what a SIGKILL at the end of the starting thread would need
    assert os.waitpid(server, os.WNOHANG) == (0, 0), "the fork server died"
    second = ExtractPool(1, 2)
    try:
        assert asyncio.run(second.run(echo, "b")) == "b"
    finally:
        second.shutdown()


def test_work_in_flight_is_capped() -> None:
    one_worker = ExtractPool(1, 2)
    seen: list[int] = []

    async def scenario() -> list[str]:
        calls = asyncio.gather(*(one_worker.run(slow_echo, str(n), 0.05) for n in range(8)))
        while not calls.done():
            seen.append(one_worker.in_flight)
            await asyncio.sleep(0.01)
        return list(await calls)

    try:
        assert asyncio.run(scenario()) == [str(n) for n in range(8)]
    finally:
        one_worker.shutdown()
    assert max(seen) == 2 and one_worker.in_flight == 0


def test_late_arguments_are_made_when_the_call_gets_its_slot() -> None:
    """What a page is extracted with (the site's layout) may depend on the pages answered
    while it waited for a worker."""
    one_slot = ExtractPool(1, 1)
    answered: list[str] = []

    async def call(n: int) -> None:
        answered.append(await one_slot.run(pair, str(n), late=lambda: (len(answered),)))

    async def scenario() -> None:
        await asyncio.gather(*(call(n) for n in range(4)))

    try:
        asyncio.run(scenario())
    finally:
        one_slot.shutdown()
    assert sorted(int(a.split(":")[1]) for a in answered) == [0, 1, 2, 3]


def test_a_shared_argument_is_rebuilt_once_per_worker_and_changes_nothing() -> None:
    one_worker = ExtractPool(1, 2)
    profile = {"site": "a", "blocks": [f"block {n}" for n in range(500)]}
    sent, other = pool.Shared(profile), pool.Shared({"site": "b"})

    async def scenario() -> list[tuple[int, int, object]]:
        return [await one_worker.run(identity, arg) for arg in [sent, sent, other, sent, profile]]

    try:
        first, second, third, fourth, plain = asyncio.run(scenario())
    finally:
        one_worker.shutdown()
    assert first[2] == second[2] == fourth[2] == plain[2] == profile
    assert third[2] == {"site": "b"}
    assert first[:2] == second[:2] == fourth[:2]  # one object in the worker, kept between calls
    assert plain[1] != first[1]  # sent unwrapped, it is unpickled with every call


def test_shared_arguments_kept_are_bounded() -> None:
    values = [pool.Shared({"site": str(n)}) for n in range(pool.SHARED_KEPT + 5)]
    rebuilt = [pickle.loads(pickle.dumps(v)) for v in values]
    assert rebuilt == [v.value for v in values]
    assert pickle.loads(pickle.dumps(values[-1])) is rebuilt[-1]  # kept
    assert pickle.loads(pickle.dumps(values[0])) is not rebuilt[0]  # evicted, rebuilt
    assert len(pool._kept) <= pool.SHARED_KEPT


def test_one_pool_per_process_shut_down_by_its_last_user() -> None:
    first, second = pool.acquire(1, 2), pool.acquire(1, 2)
    assert first is second and first.users == 2
    assert asyncio.run(first.run(echo, "started")) == "started"
    asyncio.run(pool.release(first))
    assert second.started  # still in use
    asyncio.run(pool.release(second))
    assert not second.started
    assert pool.acquire(1, 2) is not first
    asyncio.run(pool.release(pool.acquire(1, 2)))


# --- the pipeline with workers -----------------------------------------------------------------


class PoolSpider(Spider):
    name = "pooled"
    rules = SiteRules(story="article", title="h1", body="article")


def story(n: int) -> Story:
    html = (
        f"<html><body><article><h1>Story {n}</h1><p>Body of story {n}.</p></article></body></html>"
    )
    return Story(url=f"https://news.test/{n}", site="s", page=Page.of_text(html))


def test_pipeline_counts_a_page_that_kills_workers_as_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    crawler = get_crawler(PoolSpider, {"NEWSMON_EXTRACT_WORKERS": 2})
    crawler.spider = PoolSpider()
    pipeline = ExtractPipeline.from_crawler(crawler)
    pipeline.open_spider()

    async def scenario() -> list[Story]:
        monkeypatch.setattr(pipelines.extract, "extract_page", crash)
        with pytest.raises(DropItem, match="^extraction failed") as raised:
            await pipeline.process_item(story(0))
        assert raised.value.log_level == "ERROR"
        monkeypatch.undo()
        done = await asyncio.gather(*(pipeline.process_item(story(n)) for n in range(1, 5)))
        await pipeline.close_spider()
        return list(done)

    done = asyncio.run(scenario())
    assert [s.title for s in done] == [f"Story {n}" for n in range(1, 5)]
    # Counted in the run's stats: the run record makes the run partial for it.
    assert crawler.stats.get_value("newsmon/outcome/extract_failed") == 1
    assert crawler.stats.get_value("newsmon/rules/full") == 4


def test_worker_count_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert extract_workers(Settings({"NEWSMON_EXTRACT_WORKERS": "0"})) == 0
    assert extract_workers(Settings({"NEWSMON_EXTRACT_WORKERS": 3})) == 3
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert extract_workers(Settings({"NEWSMON_EXTRACT_WORKERS": None})) == 0  # one core
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    assert extract_workers(Settings({})) == 4
