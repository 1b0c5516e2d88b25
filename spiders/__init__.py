"""Site spiders: one module per site, on the shared base in ``spiders.base``."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from spiders.base import NewsSpider


@cache
def spider_classes() -> dict[str, type[NewsSpider]]:
    """Every spider by name, as `scrapy list` shows them."""
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": ["spiders"]}))
    return {name: cast("type[NewsSpider]", loader.load(name)) for name in loader.list()}


def spider_names() -> set[str]:
    return set(spider_classes())
