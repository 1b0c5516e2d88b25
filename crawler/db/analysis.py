"""Text analysis for the multilingual index: words stemmed by the story's language, CJK text
cut into overlapping character pairs.

SQLite's own tokenizers stem English only (porter), and Japanese, Chinese and Korean run
without spaces, so unicode61 sees a whole sentence as one word. Stories are therefore analysed
here, in Python, and the result (one index token per word or character pair, separated by
spaces) is what the ``articles_stemmed`` FTS5 table indexes; query terms go through the same
analysis (``crawler.db.fts_query``). Case and diacritics are still folded by FTS5 itself
(``unicode61 remove_diacritics 2``), after stemming, because stemmers need the letters as
written (Russian й, Turkish ı).

Every index token keeps the span of the original text it came from, so that a match found on
stems can be highlighted in the story as written.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import regex
import Stemmer

# The FTS5 tokenizer of ``articles_stemmed``: it must split the analysed text exactly where
# ``analyse`` put spaces, so its token characters are the categories ``_word_runs`` keeps.
TOKENIZE = "unicode61 remove_diacritics 2 categories 'L* N* Co M*'"

# Story languages (ISO 639-1 codes, as ``articles.language`` holds them) and their Snowball
# stemmer. Azerbaijani has no Snowball stemmer; Turkish is its closest relative (same
# agglutinative suffixes and vowel harmony), once the letters are mapped (``_azerbaijani``).
SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech",
    "da": "danish", "nl": "dutch", "eo": "esperanto", "et": "estonian", "fi": "finnish",
    "fr": "french", "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian",
    "id": "indonesian", "ga": "irish", "it": "italian", "lt": "lithuanian", "ne": "nepali",
    "no": "norwegian", "nb": "norwegian", "nn": "norwegian", "fa": "persian", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sr": "serbian", "st": "sesotho",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
    "az": "turkish",
}  # fmt: skip
CJK_LANGUAGES = {"ja", "zh", "ko"}
# Analyzer names stored with each indexed story (``articles_stemmed.analyzer``).
# English and unknown languages: matched on ``articles_fts`` (porter), so their rows here hold
# only their CJK text (a Japanese name quoted in an English story), which porter cannot find.
ENGLISH = "porter"
CJK = "cjk"  # words unstemmed; Japanese, Chinese and Korean by character pairs as everywhere
AZERBAIJANI = "turkish-az"

# Han (with extensions and compatibility ideographs), kana, Hangul, and the marks written
# inside such runs (々, ー). Text in these scripts has no spaces between words.
_CJK_RANGES = (
    (0x1100, 0x11FF), (0x2E80, 0x2FDF), (0x3005, 0x3007), (0x3021, 0x3029), (0x3031, 0x3035),
    (0x3040, 0x30FF), (0x3130, 0x318F), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF),
    (0xA960, 0xA97F), (0xAC00, 0xD7AF), (0xD7B0, 0xD7FF), (0xF900, 0xFAFF), (0xFF66, 0xFF9F),
    (0x20000, 0x3134F),
)  # fmt: skip
_CJK_CLASS = "".join(f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _CJK_RANGES)
_HAS_CJK = re.compile(f"[{_CJK_CLASS}]")
_SCRIPT_RUNS = re.compile(f"[{_CJK_CLASS}]+|[^{_CJK_CLASS}]+")


@dataclass(frozen=True)
class Token:
    """One index token and the span ``[start, end)`` of the analysed text it stands for."""

    term: str
    start: int
    end: int


def analyzer_for(language: str | None) -> str:
    """The analyzer a story in ``language`` is indexed with: a Snowball algorithm name,
    ``turkish-az``, ``cjk``, or ``porter`` for English and languages without a stemmer."""
    code = (language or "").strip().lower().replace("_", "-").split("-")[0]
    if code in CJK_LANGUAGES:
        return CJK
    if code == "az":
        return AZERBAIJANI
    algorithm = SNOWBALL.get(code)
    return algorithm if algorithm and algorithm in Stemmer.algorithms() else ENGLISH


def uses_english_index(analyzer: str) -> bool:
    """Whether stories of this analyzer are matched on the English (porter) index."""
    return analyzer == ENGLISH


def has_cjk(text: str) -> bool:
    """Whether ``text`` holds Japanese, Chinese or Korean characters."""
    return _HAS_CJK.search(text) is not None


def normalize(text: str) -> str:
    """The form of a text that analysis and snippets work on (NFC: composed accents)."""
    return unicodedata.normalize("NFC", text)


def analyse(text: str, analyzer: str) -> list[Token]:
    """The index tokens of ``normalize(text)``, in order: one stem per word, one token per
    pair of adjacent CJK characters (a lone CJK character is a token of its own). For
    ``porter`` (English) only the CJK pairs: its words are on the porter index already."""
    if analyzer == ENGLISH and not has_cjk(text):
        return []
    stem = _stemmer(analyzer)
    tokens: list[Token] = []
    for word, start, end in _word_runs(normalize(text)):
        if has_cjk(word):
            tokens += _pairs(word, start)
        elif analyzer != ENGLISH:
            tokens.append(Token(stem(word), start, end))
    return tokens


def index_text(text: str, analyzer: str) -> str:
    """What ``articles_stemmed`` stores for ``text``: its index tokens separated by spaces."""
    return " ".join(t.term for t in analyse(text, analyzer))


# Letters, digits, marks and private-use characters: what unicode61 with our categories keeps.
_TOKEN_RUN = regex.compile(r"[\p{L}\p{N}\p{M}\p{Co}]+")


def _word_runs(text: str) -> Iterator[tuple[str, int, int]]:
    """Maximal runs of token characters, split where CJK script starts or ends."""
    for run in _TOKEN_RUN.finditer(text):
        for m in _SCRIPT_RUNS.finditer(text, run.start(), run.end()):
            yield m.group(), m.start(), m.end()


def _pairs(run: str, start: int) -> list[Token]:
    # Full-width and half-width forms (ｶﾀｶﾅ, ＡＢＣ) index as their usual forms.
    chars = [unicodedata.normalize("NFKC", c) for c in run]
    if len(chars) == 1:
        return [Token(chars[0], start, start + 1)]
    return [
        Token(unicodedata.normalize("NFC", chars[i] + chars[i + 1]), start + i, start + i + 2)
        for i in range(len(chars) - 1)
    ]


@functools.cache
def _stemmer(analyzer: str) -> Callable[[str], str]:
    """A function from one word as written to its index form (lower case, stemmed)."""
    if analyzer == CJK:
        return _lower
    if analyzer == AZERBAIJANI:
        turkish = Stemmer.Stemmer("turkish").stemWord
        return lambda word: turkish(_azerbaijani(word)) or word
    algorithm = Stemmer.Stemmer(analyzer).stemWord
    if analyzer == "turkish":
        return lambda word: algorithm(_turkic_lower(word)) or word
    return lambda word: algorithm(_lower(word)) or word


def _lower(word: str) -> str:
    return unicodedata.normalize("NFKC", word).lower()


def _turkic_lower(word: str) -> str:
    """Lower case with the Turkic dotted and dotless i (İ -> i, I -> ı)."""
    return _lower(word.replace("İ", "i").replace("I", "ı"))


def _azerbaijani(word: str) -> str:
    """An Azerbaijani word spelled so that the Turkish stemmer finds its suffixes: ə is the
    front vowel Turkish writes e (vowel harmony), and q alternates with ğ before a vowel as
    Turkish k does (torpaq, torpağı)."""
    return _turkic_lower(word).replace("ə", "e").replace("q", "k")
