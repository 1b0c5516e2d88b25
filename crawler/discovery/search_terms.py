"""Words to type into a site's search box, derived from the watches' FTS5 queries."""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r'"([^"]+)"|([^\s()"]+)')
_OPERATORS = {"AND", "OR", "NOT", "NEAR"}


def search_terms(queries: Iterable[str]) -> list[str]:
    """One search per phrase or positive word: ``'"rare earths" OR lithium NOT spam'`` gives
    ``["rare earths", "lithium"]``. Negated terms and operators are left out."""
    terms: list[str] = []
    for query in queries:
        negate = False
        for phrase, word in _TOKEN.findall(query.replace("NEAR(", "( ")):
            if word in _OPERATORS:
                negate = word == "NOT"
                continue
            term = (phrase or word).rstrip("*").strip(" ,")
            term = re.sub(r"^\w+:", "", term)  # column filters such as title:word
            if term and not negate and not term.isdigit() and term not in terms:
                terms.append(term)
            negate = False
    return terms
