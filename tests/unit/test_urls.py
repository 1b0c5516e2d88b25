"""URL canonicalization: every spelling of a story's URL folds into one."""

from __future__ import annotations

import pytest

from crawler.urls import canonicalize_url, same_site


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # scheme and host case, default ports, fragments
        ("HTTPS://Caliber.AZ/en/post/Oil-Deal", "https://caliber.az/en/post/Oil-Deal"),
        ("https://caliber.az:443/en/post/x", "https://caliber.az/en/post/x"),
        ("http://eqmint.com:80/x/", "http://eqmint.com/x/"),
        ("https://eqmint.com:8443/x/", "https://eqmint.com:8443/x/"),
        ("http://eqmint.com:443/x/", "http://eqmint.com:443/x/"),
        ("https://eqmint.com/x/#comments", "https://eqmint.com/x/"),
        ("https://eqmint.com", "https://eqmint.com/"),
        ("https://user:secret@eqmint.com./x/", "https://eqmint.com/x/"),
        # tracking parameters go, others stay, sorted
        ("https://e.com/x?utm_source=tw&utm_medium=social&id=3", "https://e.com/x?id=3"),
        ("https://e.com/x?fbclid=IwAR0&gclid=Cj0&p=2", "https://e.com/x?p=2"),
        ("https://e.com/x?b=2&a=1&UTM_Campaign=z", "https://e.com/x?a=1&b=2"),
        ("https://e.com/x?q=rare+earths&page=2", "https://e.com/x?page=2&q=rare+earths"),
        ("https://e.com/x?utm_source=rss", "https://e.com/x"),
        # AMP and print variants
        ("https://eqmint.com/oil-deal/amp/", "https://eqmint.com/oil-deal/"),
        ("https://eqmint.com/oil-deal/amp", "https://eqmint.com/oil-deal"),
        ("https://eqmint.com/oil-deal/?amp=1", "https://eqmint.com/oil-deal/"),
        ("https://eqmint.com/oil-deal/?amp", "https://eqmint.com/oil-deal/"),
        ("https://caliber.az/amp/en/post/oil-deal", "https://caliber.az/en/post/oil-deal"),
        ("https://caliber.az/en/post/oil-deal.amp", "https://caliber.az/en/post/oil-deal"),
        ("https://caliber.az/en/post/oil-deal/print/", "https://caliber.az/en/post/oil-deal/"),
        ("https://caliber.az/amp", "https://caliber.az/amp"),  # a page named amp, no story
        # one percent-encoding: raw Unicode links equal the encoded URL Scrapy fetched
        ("https://caliber.az/post/нефть", "https://caliber.az/post/%D0%BD%D0%B5%D1%84%D1%82%D1%8C"),
        ("https://caliber.az/post/%d0%bd%D0%B5", "https://caliber.az/post/%D0%BD%D0%B5"),
        ("https://e.com/%7Euser/a%2Fb", "https://e.com/~user/a%2Fb"),
        ("https://пример.рф/x", "https://xn--e1afmkfd.xn--p1ai/x"),
        ("http://[::1]:8000/x", "http://[::1]:8000/x"),
    ],
)
def test_canonicalize_url(url: str, expected: str) -> None:
    assert canonicalize_url(url) == expected


def test_canonical_url_is_stable() -> None:
    url = "https://Caliber.az:443/amp/en/post/нефть?utm_source=x&b=1&a=%7E#top"
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


def test_relative_url_is_resolved_against_base() -> None:
    base = "https://caliber.az/en/category/economy/"
    assert canonicalize_url("../../post/oil?utm_medium=rss", base=base) == (
        "https://caliber.az/en/post/oil"
    )
    assert canonicalize_url("  /en/post/oil#x ", base=base) == "https://caliber.az/en/post/oil"


def test_malformed_port_does_not_raise() -> None:
    assert canonicalize_url("https://E.com:abc/x") == "https://e.com:abc/x"


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        ("https://caliber.az/en/post/x", "https://Caliber.az/", True),
        ("https://caliber.az:443/en/post/x", "https://caliber.az/", True),
        ("http://caliber.az:80/x", "http://caliber.az/", True),
        ("https://caliber.az:8443/x", "https://caliber.az/", False),
        ("http://127.0.0.1:8001/x", "http://127.0.0.1:8002/", False),
        ("http://127.0.0.1:8001/x", "http://127.0.0.1:8001/", True),
        ("http://caliber.az/x", "https://caliber.az/", False),  # 80 is not 443
        ("https://cdn.caliber.az/x", "https://caliber.az/", False),
        ("https://caliber.az:bad/x", "https://caliber.az/", False),
    ],
)
def test_same_site(url: str, base: str, expected: bool) -> None:
    assert same_site(url, base) is expected
