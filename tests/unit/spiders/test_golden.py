"""Golden files: every spider's saved page extracts exactly to its expected story.

`tests/fixtures/<spider>/<name>.html` is a saved page, `<name>.json` what newsmon must extract
from it (for Caliber.az and EQMint: the seed stories as readers saw them, byte for byte).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from crawler.crawling.registry import spider_classes
from crawler.extract.article import extract_article
from tests.helpers import FIXTURES, REPO

SEED_JUNK = [
    "Views:",
    "Liked the story",
    "Follow us on Telegram",
    "Caliber.az ©",
    "Any use of materials",
    "For more such information visit EQMint",
    "Disclaimer:",
    "Related Tags:",
    "Leave a Reply",
    "Related Posts",
    "Your email address will not be published",
    "Author: Aditya Pareek",
]


def golden_cases() -> list[tuple[str, Path]]:
    return [
        (name, page)
        for name in sorted(spider_classes())
        for page in sorted((FIXTURES / name).glob("*.html"))
    ]


@pytest.mark.parametrize("spider", sorted(spider_classes()))
def test_every_spider_has_golden_files_and_a_readme_row(spider: str) -> None:
    assert list((FIXTURES / spider).glob("*.html")), f"no golden page for spider {spider!r}"
    readme = (REPO / "README.md").read_text()
    assert re.search(rf"^\|[^|\n]*\|\s*`{spider}`\s*\|", readme, re.M), (
        f"spider {spider!r} is missing from the README's site table"
    )


@pytest.mark.parametrize(("spider", "page"), golden_cases(), ids=lambda v: getattr(v, "stem", v))
def test_golden_extraction(spider: str, page: Path) -> None:
    expected = json.loads(page.with_suffix(".json").read_text())
    rules = spider_classes()[spider].rules
    got = extract_article(page.read_bytes(), expected["url"], rules)
    assert got.title == expected["title"]
    assert got.author == expected["author"]
    assert got.published == expected["published"]
    assert got.language == expected["language"]
    assert got.text == expected["text"]


@pytest.mark.parametrize(("spider", "page"), golden_cases(), ids=lambda v: getattr(v, "stem", v))
def test_no_seed_junk_in_bodies(spider: str, page: Path) -> None:
    got = extract_article(page.read_bytes(), None, spider_classes()[spider].rules)
    leaked = [junk for junk in SEED_JUNK if junk.lower() in got.text.lower()]
    assert not leaked
