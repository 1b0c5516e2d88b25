"""Publication dates: the page's own offset kept, local times never labelled UTC, a day
stored as a day, htmldate as the fallback."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import lxml.html
import pytest

from crawler.extract.dates import page_dates, parse_date, to_iso, url_month
from crawler.extract.metadata import to_iso as metadata_to_iso


def tree(body: str = "", head: str = "") -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><head>{head}</head><body>{body}</body></html>")


def meta(name: str, content: str) -> str:
    return f'<meta property="{name}" content="{content}">'


def ld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-03T15:30:00+05:30", "2025-11-03T15:30:00+05:30"),
        ("2023-11-09T03:28:35Z", "2023-11-09T03:28:35+00:00"),
        ("2023-11-08", "2023-11-08"),
        ("2023-11-08 22:28:35", "2023-11-08"),  # local, no zone known: the day only
        ("Wed, 08 Nov 2023 22:28:35 -0500", "2023-11-08T22:28:35-05:00"),
        ("Nov 8, 2023 10:35 PM PST", "2023-11-08T22:35:00-08:00"),
        ("2020-08-25|00h23", "2020-08-25"),
        ("2020-12-05T23:15:0Z", "2020-12-05T23:15:00+00:00"),  # one-digit seconds
        ("1574200000", "2019-11-19T21:46:40+00:00"),
        ("not a date", None),
        ("", None),
    ],
)
def test_values_keep_their_own_offset_or_become_a_day(value: str, expected: str | None) -> None:
    assert to_iso(parse_date(value)) == expected


def test_a_naive_time_takes_the_site_zone_when_known() -> None:
    assert to_iso(parse_date("2025-10-28 10:06"), "Asia/Baku") == "2025-10-28T10:06:00+04:00"
    assert metadata_to_iso("28 October 2025 10:06", "Asia/Baku", ("%d %B %Y %H:%M",)) == (
        "2025-10-28T10:06:00+04:00"
    )
    assert metadata_to_iso("28 October 2025 10:06", None, ("%d %B %Y %H:%M",)) == "2025-10-28"


def test_unknown_zone_names_neither_warn_nor_fail() -> None:
    # pytest turns warnings into errors: dateutil's UnknownTimezoneWarning must not escape.
    assert to_iso(parse_date("Nov 8, 2023 10:35 PM XYZT")) == "2023-11-08"


def test_json_ld_comes_first() -> None:
    page = tree(head=ld({"@type": "NewsArticle", "datePublished": "2025-11-03T15:30:00+05:30"})
                + meta("article:published_time", "2025-11-01T00:00:00+00:00"))  # fmt: skip
    assert page_dates(page).published == "2025-11-03T15:30:00+05:30"


def test_utc_metadata_takes_the_local_offset_the_page_shows_for_the_same_instant() -> None:
    head = meta("article:published_time", "2023-11-09T03:28:35+00:00")
    naive_local = head + '<meta name="sailthru.date" content="2023-11-08 22:28:35">'
    assert page_dates(tree(head=naive_local)).published == "2023-11-08T22:28:35-05:00"
    aware_local = '<time datetime="2023-11-08T19:28:35-08:00">Nov 8</time>'
    assert page_dates(tree(aware_local, head)).published == "2023-11-08T19:28:35-08:00"
    unrelated = '<time datetime="2023-11-08T12:00:00">noon</time>'
    assert page_dates(tree(unrelated, head)).published == "2023-11-09T03:28:35+00:00"


def test_dates_marked_in_the_body_localize_a_utc_date_and_never_outrank_a_local_one() -> None:
    # The body's marked dates are read only when the stated ones leave the choice open; a
    # UTC date does, and takes the local offset an itemprop date gives the same instant
    # (on a <span>, not one of the page's <time> elements).
    marked = "<span itemprop='datePublished' content='2023-11-08T22:28:35-05:00'>Nov 8</span>"
    utc = meta("article:published_time", "2023-11-09T03:28:35+00:00")
    assert page_dates(tree(marked, utc)).published == "2023-11-08T22:28:35-05:00"
    local = meta("article:published_time", "2023-11-09T08:58:35+05:30")
    assert page_dates(tree(marked, local)).published == "2023-11-09T08:58:35+05:30"
    # A UTC modified date is localized from them too, also when a stated day settles the
    # publication date.
    day = meta("article:published_time", "2023-11-08")
    both = page_dates(tree(marked, day + meta("article:modified_time", "2023-11-09T03:28:35Z")))
    assert (both.published, both.modified) == ("2023-11-08", "2023-11-08T22:28:35-05:00")


def test_a_naive_time_takes_the_offset_of_the_same_wall_clock_time() -> None:
    head = meta("article:published_time", "2023-11-08T22:28:35") + meta(
        "og:updated_time", "2023-11-08T22:28:35-05:00"
    )
    assert page_dates(tree(head=head)).published == "2023-11-08T22:28:35-05:00"


def test_utc_time_off_the_day_the_url_shows_is_stored_as_that_day() -> None:
    head = meta("article:published_time", "2020-02-18T02:18:11+00:00")
    url = "https://news.example/2020/02/17/story/"
    assert page_dates(tree(head=head), url).published == "2020-02-17"
    far = meta("article:published_time", "2020-02-18T12:18:11+00:00")
    assert page_dates(tree(head=far), url).published == "2020-02-18T12:18:11+00:00"


def test_the_dateline_under_the_headline_dates_a_page_without_metadata() -> None:
    page = tree("<h1>Envoy speaks</h1><ul><li>13 Oct 2020 18:29</li></ul><p>Text 2019.</p>")
    headline = page.find(".//h1")
    assert page_dates(page, tz="Asia/Baku", headline=headline, fallback=False).published == (
        "2020-10-13T18:29:00+04:00"
    )
    assert page_dates(page, headline=headline, fallback=False).published == "2020-10-13"


def test_a_labelled_date_beats_a_generic_meta_date() -> None:
    page = tree(
        "<div><span>Erschienen am:</span> <b>13.10.2021</b></div>",
        '<meta name="dc.date" content="2021-10-15">',
    )
    assert page_dates(page, fallback=False).published == "2021-10-13"


def test_dates_in_comments_or_disagreeing_lists_do_not_date_the_page() -> None:
    comments = (
        "<div class='comments'><time pubdate datetime='2019-09-22T07:30:29Z'>22 Sep</time></div>"
    )
    assert page_dates(tree(comments), fallback=False).published is None
    listing = "".join(
        f"<article><time itemprop='datePublished' datetime='2019-09-{d}'></time></article>"
        for d in (10, 11, 12)
    )
    assert page_dates(tree(listing), fallback=False).published is None


def test_htmldate_is_the_fallback_bounded_by_the_url_month() -> None:
    text = "<p>Posted on 3 December 2011 by Tom. Archive: 1 June 2010, 4 May 2009.</p>"
    html = f"<html><body><article>{text}</article></body></html>"
    found = page_dates(tree(text), "https://blog.example/news/2011/12/story/", html=html)
    assert found.published == "2011-12-03"


def test_url_month_reads_dated_paths_only() -> None:
    assert url_month("https://x.example/2023/11/08/story") == (date(2023, 11, 8), date(2023, 11, 8))
    assert url_month("https://x.example/2011/12/story/") == (date(2011, 12, 1), date(2011, 12, 31))
    assert url_month("https://x.example/news/20200413/story") == (
        date(2020, 4, 13),
        date(2020, 4, 13),
    )
    assert url_month("https://x.example/story-202311") is None
    assert url_month(None) is None


def test_modified_dates_are_read_too() -> None:
    head = ld({"@type": "Article", "datePublished": "2025-11-03T15:30:00+05:30",
               "dateModified": "2025-11-03T16:00:00+05:30"})  # fmt: skip
    found = page_dates(tree(head=head))
    assert found.modified == "2025-11-03T16:00:00+05:30"
    assert datetime.fromisoformat(found.published or "").utcoffset() == timedelta(
        hours=5, minutes=30
    )
