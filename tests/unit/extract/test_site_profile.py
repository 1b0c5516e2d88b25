"""Site profiles: blocks that recur on a site's stories are its boilerplate; the affix every
title of the site carries is its name."""

from __future__ import annotations

from pathlib import Path

from crawler.db import connect, site_profiles
from crawler.extract.article import extract_article
from crawler.extract.site_profile import (
    SiteProfile,
    block_hash,
    profile_from_stories,
)

DISCLAIMER = (
    "Disclaimer: This article is based on information available from public sources and has "
    "not been verified by our journalists; readers should check the details independently."
)
VISIT = "For more stories like this one, visit the Harbour Herald every morning."
RELATED = ["Harbour dredging resumes", "Council election dates set", "Ferry fares rise again"]
TOPICS = ["tide gauges", "fishing quotas", "sea walls", "port cranes", "lighthouses", "buoys"]


def story(n: int) -> tuple[str, str, str]:
    """A story page of the synthetic site: its URL, HTML and its own paragraphs."""
    topic = TOPICS[n]
    paragraphs = [
        f"The harbour board met on day {n} to discuss {topic}, a long-running concern for the "
        f"town that has divided residents and businesses along the waterfront for years.",
        f"Members agreed that {topic} would need new funding, and asked officials to report "
        f"back within {n + 2} weeks with costed options for the next meeting of the board.",
        f"Several residents spoke at the meeting about {topic}, most of them in favour of the "
        f"plan but worried that the work would disrupt the summer season on the quay.",
    ]
    related = "".join(f"<li>{r}</li>" for r in RELATED)
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    html = (
        f"<html><head><title>Board weighs {topic} | Harbour Herald</title>"
        f'<meta property="og:type" content="article"></head><body>'
        f"<article><h1>Board weighs {topic}</h1>{body}<p><em>{DISCLAIMER}</em></p>"
        f"<p>{VISIT}</p><h3>Related</h3><ul class='more'>{related}</ul></article>"
        "</body></html>"
    )
    return f"https://herald.example/story-{n}/", html, "\n\n".join(paragraphs)


def learn(profile: SiteProfile | None, count: int) -> list[str]:
    """Extract ``count`` stories in order, recording each in the profile; their texts."""
    texts = []
    for n in range(count):
        url, html, _ = story(n)
        found = extract_article(html, url, profile=profile)
        if profile is not None:
            profile.observe(url, found.raw_title, found.block_hashes)
        texts.append(found.text)
    return texts


def test_blocks_every_story_carries_are_dropped_once_seen_on_three_others() -> None:
    without = learn(None, 6)
    assert all(DISCLAIMER in text and VISIT in text for text in without)
    with_profile = learn(SiteProfile("herald"), 6)
    assert DISCLAIMER in with_profile[2]  # only two other stories seen so far
    for n in (3, 4, 5):
        assert DISCLAIMER not in with_profile[n] and VISIT not in with_profile[n]
        assert with_profile[n] == story(n)[2]  # what is unique to the story stays


def test_the_titles_shared_suffix_is_learned_and_cut() -> None:
    profile = SiteProfile("herald")
    learn(profile, 4)
    assert profile.title_affixes() == [" | Harbour Herald"]
    url, html, _ = story(4)
    html = html.replace("<h1>Board weighs lighthouses</h1>", "")  # no heading: <title> it is
    assert extract_article(html, url).title == "Board weighs lighthouses | Harbour Herald"
    assert extract_article(html, url, profile=profile).title == "Board weighs lighthouses"


def test_a_profile_never_drops_every_block_and_counts_a_story_once() -> None:
    profile = SiteProfile("s", min_stories=1)
    blocks = ["Same text on every page.", "Another shared line."]
    profile.observe("https://s.example/a", "A", [block_hash(b) for b in blocks])
    profile.observe("https://s.example/a", "A", [block_hash(b) for b in blocks])  # re-crawl
    assert len(profile.stories) == 1
    assert profile.clean(blocks, "https://s.example/b") == blocks  # all would go: none does
    assert profile.clean([*blocks, "Unique"], "https://s.example/b") == ["Unique"]
    # A story is not boilerplate to itself.
    assert profile.clean([*blocks, "Unique"], "https://s.example/a") == [*blocks, "Unique"]


def test_only_the_last_stories_are_kept() -> None:
    profile = SiteProfile("s", max_stories=3)
    for n in range(5):
        profile.observe(f"https://s.example/{n}", f"T{n}", [block_hash(f"text {n}")])
    assert [s.title for s in profile.stories] == ["T2", "T3", "T4"]


def test_profiles_round_trip_through_json_and_sqlite(tmp_path: Path) -> None:
    profile = SiteProfile("herald")
    learn(profile, 4)
    profile.layout, profile.layout_counts = "article > div.story-body", (40, 7, 0)
    copy = SiteProfile.from_json("herald", profile.to_json())
    assert copy.stories == profile.stories
    assert (copy.layout, copy.layout_counts) == ("article > div.story-body", (40, 7, 0))
    assert SiteProfile.from_json("herald", "{not json").stories == []
    # A profile written before layouts existed: no layout, nothing counted.
    old = SiteProfile.from_json("herald", '{"version": 1, "site": "herald", "stories": []}')
    assert (old.layout, old.layout_counts) == (None, (0, 0, 0))
    with connect(tmp_path / "newsmon.db") as db:
        assert site_profiles.load(db, "herald") is None
        site_profiles.save(db, "herald", profile.to_json())
        site_profiles.save(db, "herald", profile.to_json())  # an upsert, not a second row
        assert db.execute("SELECT count(*) FROM site_profiles").fetchone()[0] == 1
        stored = SiteProfile.from_json("herald", site_profiles.load(db, "herald"))
        assert stored.title_affixes() == [" | Harbour Herald"]


def test_a_first_profile_is_learned_from_stored_stories() -> None:
    stored = [(url, f"{text}\n\n{DISCLAIMER}") for url, _, text in map(story, range(4))]
    profile = profile_from_stories("herald", stored)
    url, html, text = story(5)
    found = extract_article(html, url, profile=profile).text
    assert found.startswith(text) and DISCLAIMER not in found and VISIT in found
