"""The stored URL of a story: the page's own canonical link when it is on the same site;
every other URL it was reached by becomes an alias."""

from __future__ import annotations

from crawler.story import Story
from pipelines.canonical import CanonicalPipeline


def run(url: str, canonical: str | None = None, aliases: list[str] | None = None) -> Story:
    item = Story(url=url, site="eqmint", aliases=aliases or [])
    if canonical is not None:
        item.hints["canonical"] = canonical
    return CanonicalPipeline().process_item(item)


def test_same_site_canonical_link_wins_and_the_fetched_url_is_an_alias() -> None:
    item = run("https://eqmint.com/oil-deal/amp/?utm_source=x", canonical="/oil-deal/")
    assert item.url == "https://eqmint.com/oil-deal/"
    assert item.aliases == []  # the AMP URL canonicalizes to the same story URL


def test_a_canonical_link_to_another_host_is_not_taken() -> None:
    item = run("https://eqmint.com/oil-deal/", canonical="https://wire.example/oil-deal")
    assert item.url == "https://eqmint.com/oil-deal/"


def test_redirected_urls_are_kept_as_aliases() -> None:
    item = run(
        "https://eqmint.com/oil-deal-2/",
        canonical="https://eqmint.com/oil-deal-2/",
        aliases=["https://eqmint.com/?p=123", "https://EQMINT.com/oil-deal-2/"],
    )
    assert item.url == "https://eqmint.com/oil-deal-2/"
    assert item.aliases == ["https://eqmint.com/?p=123"]
