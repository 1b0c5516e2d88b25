"""Polite incremental crawling: conditional GET for sources, no story page fetched twice
without a reason (the re-check policy of `crawler.discovery.incremental`), `max_age` and
`--backfill`, and Retry-After honoured. Crawls run as real processes against the replica sites; what
they asked for is read from the replica's request log."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from scrapy.http import Request, Response
from scrapy.settings import Settings

from crawler.crawling.downloads import DownloadCancelled
from crawler.crawling.middlewares import RetryAfterMiddleware, retry_after_seconds
from crawler.discovery.incremental import FETCH, LATER, SKIP, Known, RecheckPolicy, too_old
from replica import courier_site, ledger_site
from replica.base import Story, now_utc
from replica.server import ReplicaServer, RequestRecord
from replica.sites import courier, ledger
from tests.helpers import run_newsmon, write_config

CONDITIONAL = ("If-None-Match", "If-Modified-Since")


PIER = (
    "The rebuilt pier at the south beach reopened to walkers on Saturday morning, almost"
    " two years after a winter storm tore away its outer section and left it closed.",
    "The repairs cost 2.1 million pounds, shared between the council and a heritage fund,"
    " and included new timber decking and a lower railing that children can see over.",
    "Anglers will be allowed back on the end of the pier from next month, once the last"
    " lamps have been fitted and the lifebuoys have been inspected by the harbour master.",
)


def new_story() -> Story:
    """A story published now, for add_story."""
    return Story(
        slug="new-pier-opens-to-walkers",
        title="New pier opens to walkers after storm repairs",
        author="Maren Holt",
        published=now_utc(),
        paragraphs=list(PIER),
    )


def crawl(config: Path, *args: str) -> None:
    result = run_newsmon(config, "crawl", "--no-deliver", *args)
    assert result.returncode == 0, result.stdout + result.stderr


def story_requests(server: ReplicaServer, prefix: str) -> list[RequestRecord]:
    return [r for r in server.requests if r.path.startswith(prefix)]


def is_conditional(record: RequestRecord) -> bool:
    return any(h in record.headers for h in CONDITIONAL)


def stored(config: Path, sql: str = "SELECT url FROM articles") -> list[tuple]:
    conn = sqlite3.connect(config.parent / "newsmon.db")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def ledger_server() -> Iterator[ReplicaServer]:
    with ReplicaServer(ledger()) as server:
        yield server


# --- the policy ---------------------------------------------------------------------------


NOW = now_utc()
POLICY = RecheckPolicy(NOW, editable=timedelta(days=3), every=timedelta(days=1))


def known(first_seen: timedelta, last_checked: timedelta) -> Known:
    return Known((NOW - first_seen).isoformat(), (NOW - last_checked).isoformat(), None, None)


@pytest.mark.parametrize(
    ("story", "hints", "changed", "decision"),
    [
        (None, {}, False, FETCH),  # never stored
        (known(timedelta(days=9), timedelta(hours=2)), {"modified": NOW.isoformat()}, False, FETCH),
        (known(timedelta(hours=5), timedelta(hours=2)), {"modified": "2020-01-01"}, True, SKIP),
        (known(timedelta(hours=5), timedelta(hours=2)), {}, True, LATER),  # listing changed
        (known(timedelta(hours=5), timedelta(hours=2)), {}, False, SKIP),  # listing unchanged
        (known(timedelta(days=5), timedelta(hours=2)), {}, True, SKIP),  # no longer editable
    ],
)
def test_recheck_policy(story: Known | None, hints: dict, changed: bool, decision: str) -> None:
    assert POLICY.decide(story, hints, changed) == decision


def test_overdue_and_too_old() -> None:
    assert POLICY.overdue(known(timedelta(days=2), timedelta(days=1, seconds=1)))
    assert not POLICY.overdue(known(timedelta(days=2), timedelta(hours=23)))
    assert not POLICY.overdue(known(timedelta(days=4), timedelta(days=2)))
    week = timedelta(days=7)
    assert too_old({"published": "2020-01-01T00:00:00+00:00"}, week, NOW)
    assert too_old({"modified": "2020-01-01T00:00:00+00:00"}, week, NOW)  # sitemap lastmod
    assert not too_old({}, week, NOW) and not too_old({"published": "2020-01-01"}, None, NOW)


# --- conditional GET and the second and third crawl ------------------------------------------


def test_unchanged_site_costs_only_conditional_source_requests_and_a_new_story_one_page(
    tmp_path: Path, ledger_server: ReplicaServer
) -> None:
    config = write_config(
        tmp_path, [{"name": "ledger", "spider": "generic", "url": ledger_server.base_url}]
    )
    crawl(config)
    assert len(stored(config)) == len(ledger_server.site.stories)

    ledger_server.clear_requests()
    crawl(config)
    second = ledger_server.requests
    assert not story_requests(ledger_server, "/2")
    unconditional = [r.path for r in second if not is_conditional(r)]
    assert unconditional == ["/robots.txt"]  # Scrapy's own robots.txt check
    assert {r.path for r in second if is_conditional(r)} >= {"/", "/atom.xml", "/news-sitemap.xml"}
    assert all(r.status == 304 for r in second if is_conditional(r))

    added = ledger_server.site.add_story(new_story())
    ledger_server.clear_requests()
    crawl(config)
    assert [r.path for r in story_requests(ledger_server, "/2")] == [ledger_site.story_path(added)]
    assert len(stored(config)) == len(ledger_server.site.stories)


def test_edits_on_a_site_without_dates(tmp_path: Path) -> None:
    with ReplicaServer(courier()) as server:
        entry = {
            "name": "courier",
            "spider": "generic",
            "url": server.base_url,
            "feeds": [],
            "sitemaps": [],
            "wordpress": False,
            "listings": [server.url(f"/section/{s}/") for s in ("world", "business", "science")],
            "article_pattern": r"/story/[^/]+\.html$",
        }
        config = write_config(tmp_path, [entry])
        crawl(config)
        site = server.site
        # Rule 3: an edit that changes a listing re-checks the stories of that listing only.
        site.edit_story(
            "reef-survey-finds-coral-recovering-after-bleaching",
            title="Reef survey finds coral recovering fast after bleaching",
        )
        server.clear_requests()
        crawl(config)
        checks = {r.path: r.status for r in story_requests(server, "/story/")}
        assert checks == {
            "/story/reef-survey-finds-coral-recovering-after-bleaching.html": 200,
            "/story/astronomers-map-a-comet-on-its-first-visit.html": 304,
        }
        # Rule 4: an edit no listing shows waits for the site's recheck interval.
        edited = site.edit_story(
            "port-strike-ends-after-wage-deal",
            paragraphs=[
                *site.story("port-strike-ends-after-wage-deal").paragraphs,
                "The union said it would ballot.",
            ],
        )
        config = write_config(tmp_path, [{**entry, "recheck": "1s"}])
        time.sleep(1.1)
        server.clear_requests()
        crawl(config)
        checks = {r.path: r.status for r in story_requests(server, "/story/")}
        assert len(checks) == len(site.stories)
        assert checks.pop(courier_site.story_path(edited)) == 200
        assert set(checks.values()) == {304}
    versions = dict(stored(config, "SELECT url, version FROM articles"))
    assert sorted(versions.values()) == [1] * 6 + [2, 2]


# --- max_age, backfill and Retry-After ----------------------------------------------------


def test_max_age_and_retry_after_then_backfill(
    tmp_path: Path, ledger_server: ReplicaServer
) -> None:
    """The first crawl (max_age 1d) meets a 429 with Retry-After on the feed and waits before
    the retry; a `--backfill` crawl then fetches the older stories, and only those."""
    ledger_server.set_fault("/atom.xml", "status", code=429, retry_after=2, times=1)
    seen: list[tuple[float, str, int]] = []
    record = ledger_server._record  # timestamp each request as the server logs it

    def timed(r: RequestRecord) -> None:
        seen.append((time.monotonic(), r.path, r.status))
        record(r)

    ledger_server._record = timed  # type: ignore[method-assign]
    config = write_config(
        tmp_path,
        [{"name": "ledger", "spider": "generic", "url": ledger_server.base_url, "max_age": "1d"}],
    )
    crawl(config)
    feed = [(t, status) for t, path, status in seen if path == "/atom.xml"]
    assert [status for _, status in feed] == [429, 200]
    assert feed[1][0] - feed[0][0] >= 1.9
    recent = {
        ledger_server.url(ledger_site.story_path(s))
        for s in ledger_server.site.stories
        if s.published > now_utc() - timedelta(days=1)
    }
    assert 0 < len(recent) < len(ledger_server.site.stories)
    assert {url for (url,) in stored(config)} == recent

    ledger_server.clear_requests()
    crawl(config, "--backfill", "30")
    assert len(stored(config)) == len(ledger_server.site.stories)
    fetched = story_requests(ledger_server, "/2")
    assert len(fetched) == len(ledger_server.site.stories) - len(recent)  # only the missing ones
    assert not [r for r in ledger_server.requests if r.path == "/atom.xml" and is_conditional(r)]


def test_retry_after_middleware_delays() -> None:
    mw = RetryAfterMiddleware(
        Settings({"RETRY_TIMES": 2, "RETRY_HTTP_CODES": [503, 429], "NEWSMON_RETRY_AFTER_MAX": 60})
    )
    request = Request("https://a.example/feed")

    def answer(status: int, **headers: str) -> Response:
        return Response(request.url, status=status, headers=headers, request=request)

    assert mw.delay(request, answer(503, **{"Retry-After": "7"})) == 7
    assert mw.delay(request, answer(503, **{"Retry-After": "3600"})) == 60  # capped
    assert mw.delay(request, answer(503)) == 0
    assert mw.delay(request, answer(429)) == 5  # no header: a default pause
    assert mw.delay(request, answer(500, **{"Retry-After": "7"})) == 0
    last = request.replace(meta={"retry_times": 2})
    assert mw.delay(last, answer(503, **{"Retry-After": "7"})) == 0  # no retry follows
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", NOW) == 0
    assert retry_after_seconds("soon") is None


def test_a_cancelled_crawl_stops_waiting_out_a_retry_after() -> None:
    mw = RetryAfterMiddleware(Settings({"RETRY_TIMES": 2, "RETRY_HTTP_CODES": [503]}))
    request = Request("https://a.example/feed")
    slow_down = Response(request.url, status=503, headers={"Retry-After": "60"}, request=request)

    async def cancelled_meanwhile() -> float:
        started = time.monotonic()
        asyncio.get_running_loop().call_later(0.2, mw.cancelled.set)
        with pytest.raises(DownloadCancelled):
            await mw.process_response(request, slow_down)
        return time.monotonic() - started

    assert asyncio.run(cancelled_meanwhile()) < 5  # not the 60 s the server asked for
