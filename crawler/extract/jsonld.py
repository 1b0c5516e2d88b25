"""Structured data a page gives about itself: JSON-LD objects and ``<meta>`` tags."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from lxml import html as lxml_html

logger = logging.getLogger(__name__)

ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "BlogPosting",
        "BackgroundNewsArticle",
        "OpinionNewsArticle",
        "ReviewNewsArticle",
        "LiveBlogPosting",
    }
)
ORGANIZATION_TYPES = frozenset(
    {"Organization", "NewsMediaOrganization", "Corporation", "WebSite", "OnlineBusiness"}
)

# Raw control characters inside JSON strings (newlines in an articleBody) are common and
# make strict parsers fail; a trailing comma before a closing bracket too.
_CONTROL_RE = re.compile(r"[\x00-\x1f]")
_TRAILING_COMMA_RE = re.compile(r",\s*([}\]])")


def json_ld_objects(tree: lxml_html.HtmlElement) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page, ``@graph`` members and list items flattened, in
    document order; scripts that do not parse are skipped."""
    return objects_of(json_ld_data(tree))


def json_ld_data(
    tree: lxml_html.HtmlElement, scripts: Iterable[lxml_html.HtmlElement] | None = None
) -> list[object]:
    """The parsed JSON of each JSON-LD script of the page that parses, in document order.
    ``scripts``: the page's ``<script>`` elements, when the caller has them."""
    found: list[object] = []
    for script in tree.iter("script") if scripts is None else scripts:
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        data = _loads(script.text or "")
        if data is not None:
            found.append(data)
    return found


def objects_of(data: list[object]) -> list[dict[str, Any]]:
    """The JSON-LD objects of parsed scripts, ``@graph`` members and list items flattened."""
    return [obj for item in data for obj in _walk(item)]


def named_types(data: list[object]) -> set[str]:
    """Every schema.org @type parsed JSON-LD names, nested objects included."""
    found: set[str] = set()
    todo = list(data)
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo.extend(node)
        elif isinstance(node, dict):
            kind = node.get("@type")
            found.update(
                k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)
            )
            todo.extend(v for v in node.values() if isinstance(v, (list, dict)))
    return found


def _loads(text: str) -> object:
    text = text.strip().removeprefix("<!--").removesuffix("-->").strip()
    if not text:
        return None
    for candidate in (text, _TRAILING_COMMA_RE.sub(r"\1", _CONTROL_RE.sub(" ", text))):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    logger.debug("unparseable JSON-LD script skipped")
    return None


def _walk(data: object) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _walk(item)
    elif isinstance(data, dict):
        yield data
        yield from _walk(data.get("@graph", []))


def types_of(obj: dict[str, Any]) -> set[str]:
    """The ``@type`` names of a JSON-LD object (a string or a list of them)."""
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return {v.rsplit("/", 1)[-1] for v in values if isinstance(v, str)}


def article_object(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The page's article: the first object of an article type, else {}."""
    for obj in objects:
        if types_of(obj) & ARTICLE_TYPES:
            return obj
    return {}


def by_id(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Objects by ``@id``, to resolve references such as ``"author": {"@id": ...}``."""
    return {obj["@id"]: obj for obj in objects if isinstance(obj.get("@id"), str)}


def resolve(value: object, ids: dict[str, dict[str, Any]]) -> object:
    """A reference ``{"@id": X}`` replaced by the object it names, when the page has it."""
    if isinstance(value, dict) and set(value) <= {"@id"} and value.get("@id") in ids:
        return ids[value["@id"]]
    return value


def text_value(value: object) -> str | None:
    """A JSON-LD value as one line of text: strings as they are, the first of a list, the
    ``name`` (or ``@value``) of an object; None when there is nothing."""
    if isinstance(value, list):
        value = next((v for v in value if text_value(v)), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and value.strip():
        return " ".join(value.split())
    return None


def meta_tags(
    tree: lxml_html.HtmlElement, metas: Iterable[lxml_html.HtmlElement] | None = None
) -> dict[str, list[str]]:
    """``<meta>`` contents by lower-cased ``property``/``name``/``itemprop``, every value of
    a repeated key in document order. ``metas``: the page's ``<meta>`` elements, when the
    caller has them."""
    found: dict[str, list[str]] = {}
    for el in tree.iter("meta") if metas is None else metas:
        content = el.get("content")
        if content is None or not content.strip():
            continue
        for attr in ("property", "name", "itemprop"):
            key = (el.get(attr) or "").strip().lower()
            if key:
                found.setdefault(key, []).append(content.strip())
    return found
