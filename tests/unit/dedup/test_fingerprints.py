"""Fingerprints: noise is not content, and the one-pass fingerprints equal the separate ones."""

from __future__ import annotations

from crawler.dedup import minhash as neardup
from crawler.dedup.fingerprints import body_hash, content_hash, fingerprints, normalize

BODY = " ".join(f"Sentence {i} about the tidal barrier and the harbour council." for i in range(20))


def test_noise_is_not_content() -> None:
    assert content_hash("Title", "Views: 110\n\nThe  story.") == content_hash("Title", "The story.")
    assert content_hash("Title", "Updated 5 minutes ago. The story.") == content_hash(
        "Title", "The story."
    )
    assert content_hash("Title", "The story.") != content_hash("Title", "The other story.")
    assert normalize("“Quoted” — text") == '"quoted" - text'


def test_noise_in_any_letter_case_is_noise() -> None:
    # Case-insensitive as the patterns are: the dotless and dotted i and full-width letters
    # ("ＶＩＥＷＳ" after NFKC) are the letters a reader sees.
    for noisy in (
        "VİEWS: 5 The story.",
        "vıews 3 The story.",
        "ＶＩＥＷＳ 12 The story.",
        "The story. 4 SHARES",
        "The story, 10 mins AGO;",
    ):
        assert normalize(noisy).replace(",", "").strip(" .") in ("the story", "the story."), noisy
    assert normalize("The story was read by many.") == "the story was read by many."


def test_counters_are_noise_only_after_a_number() -> None:
    # The words of a counter are common words; only a number before them makes a counter,
    # whatever whitespace or digits, also when removing other noise put the number there.
    assert normalize("I like it, 3 likes.") == "i like it,"
    assert normalize("Read 12\u00a0Shares now") == "read now"
    assert normalize("Already read \u0663 reads") == "already read"
    assert normalize("Rated 5 views: likes here") == "rated here"
    assert normalize("likes 3, read 4ever") == "likes 3, read 4ever"


def test_one_pass_fingerprints_equal_the_separate_functions() -> None:
    found = fingerprints("A title", BODY)
    assert found.content_hash == content_hash("A title", BODY)
    assert found.body_hash == body_hash(BODY)
    assert list(found.signature) == neardup.signature(BODY)


def test_short_bodies_get_no_duplicate_fingerprints() -> None:
    found = fingerprints("A title", "Photo gallery")
    assert found.content_hash and not found.body_hash and not found.signature
