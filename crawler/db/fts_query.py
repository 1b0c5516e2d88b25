"""FTS5 queries rewritten for the multilingual index: every search term analysed as the
stories it runs against were (``crawler.db.analysis``), every operator left as written.

The lexer follows FTS5's own (``fts5ExprGetToken``): barewords (ASCII letters, digits, ``_``
and any non-ASCII character), ``"strings"`` with ``""`` for a quote, and the one-character
tokens ``( ) { } : , + * - ^``. A string is a search term unless it is an operator (``AND``,
``OR``, ``NOT``, ``NEAR`` before ``(``), a column name (before ``:`` or inside ``{...}``) or
the distance of a ``NEAR`` group (after ``,``). Grammar errors are left for FTS5 to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.db.analysis import Token, analyse, has_cjk

_LEXEME = re.compile(
    r'[ \t\n\r]+|"(?:[^"]|"")*"?|[(){}:,+*^-]|[A-Za-z0-9_\x1a\x80-\U0010ffff]+|.', re.S
)
_OPERATORS = {"AND", "OR", "NOT"}


class QuerySyntaxError(ValueError):
    """A character FTS5 does not accept outside a string, or an unclosed string."""


@dataclass(frozen=True)
class Lexeme:
    text: str
    kind: str  # "space", "string" (quoted), "bare", or the punctuation character itself


def lex(query: str) -> list[Lexeme]:
    """The FTS5 tokens of ``query``, whitespace included (so a rewrite keeps the layout)."""
    out = []
    for m in _LEXEME.finditer(query):
        text = m.group()
        if text.strip(" \t\n\r") == "":
            kind = "space"
        elif text.startswith('"'):
            if len(text) < 2 or not text.endswith('"') or _ends_escaped(text):
                raise QuerySyntaxError(f"unterminated string {text!r}")
            kind = "string"
        elif len(text) == 1 and text in "(){}:,+*^-":
            kind = text
        elif _is_bare(text):
            kind = "bare"
        else:
            raise QuerySyntaxError(f"syntax error near {text!r}")
        out.append(Lexeme(text, kind))
    return out


def rewrite(query: str, analyzer: str) -> str:
    """``query`` with each search term replaced by the quoted phrase of its index tokens
    under ``analyzer``: ``редкоземельные`` becomes ``"редкоземельн"``, ``高市早苗`` becomes
    ``"高市 市早 早苗"``. A prefix term (``word*``) keeps its last word unstemmed."""
    lexemes = lex(query)
    significant = [i for i, lx in enumerate(lexemes) if lx.kind != "space"]
    out = [lx.text for lx in lexemes]
    in_braces = False
    for n, i in enumerate(significant):
        lx = lexemes[i]
        before = lexemes[significant[n - 1]].kind if n > 0 else ""
        after = lexemes[significant[n + 1]].kind if n + 1 < len(significant) else ""
        if lx.kind in "{}":
            in_braces = lx.kind == "{"
        if lx.kind not in ("string", "bare") or in_braces:
            continue
        if _is_syntax(lx, before, after):
            continue
        out[i] = _phrase(analyse_term(term_text(lx), analyzer, prefix=after == "*"))
    return "".join(out)


def term_text(lx: Lexeme) -> str:
    """The text a search term stands for (a string unquoted)."""
    if lx.kind == "string":
        return lx.text[1:-1].replace('""', '"')
    return lx.text


def analyse_term(text: str, analyzer: str, *, prefix: bool = False) -> list[str]:
    """A term's index tokens; with ``prefix`` the last word stays as written (lower case),
    since a prefix is not a word a stemmer knows."""
    tokens = analyse(text, analyzer)
    if prefix and tokens and not has_cjk(tokens[-1].term):
        last = tokens[-1]
        tokens[-1] = Token(text[last.start : last.end].lower(), last.start, last.end)
    terms = [t.term for t in tokens]
    if len(terms) == 1 and has_cjk(terms[0]) and len(terms[0]) == 1 and not prefix:
        # A lone CJK character: the index holds character pairs, so look for pairs that
        # start with it (see _phrase).
        return [terms[0] + "*"]
    return terms


def _is_syntax(lx: Lexeme, before: str, after: str) -> bool:
    if lx.kind == "bare" and (lx.text in _OPERATORS or (lx.text == "NEAR" and after == "(")):
        return True
    return after == ":" or (before == "," and lx.kind == "bare")


def _phrase(terms: list[str]) -> str:
    if len(terms) == 1 and terms[0].endswith("*"):
        return '"' + terms[0][:-1] + '" *'
    return '"' + " ".join(terms).replace('"', '""') + '"'


def _is_bare(text: str) -> bool:
    return all(not c.isascii() or c.isalnum() or c in "_\x1a" for c in text)


def _ends_escaped(text: str) -> bool:
    """Whether a string token ends in an escaped quote (``""``) rather than a closing one."""
    body = text[1:]
    return (len(body) - len(body.rstrip('"'))) % 2 == 0
