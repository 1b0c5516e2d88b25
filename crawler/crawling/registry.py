"""The spiders a config may name: found by Scrapy's spider loader in ``SPIDER_MODULES``, as
`scrapy list` finds them, so the core names the ``spiders`` package without importing it."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, cast

from crawler.config import Config, ConfigError

if TYPE_CHECKING:
    from scrapy import Spider


@cache
def spider_classes() -> dict[str, type[Spider]]:
    """Every spider by name, as `scrapy list` shows them."""
    from scrapy.settings import Settings
    from scrapy.spiderloader import SpiderLoader

    from crawler.crawling import settings

    loader = SpiderLoader.from_settings(Settings({"SPIDER_MODULES": settings.SPIDER_MODULES}))
    return {name: cast("type[Spider]", loader.load(name)) for name in loader.list()}


def check_spiders(config: Config) -> None:
    """Raise ConfigError, naming the key path, for a site whose spider does not exist."""
    known = spider_classes()
    where = f"{config.path}: " if config.path else ""
    for i, site in enumerate(config.sites):
        if site.spider not in known:
            raise ConfigError(
                f"{where}sites[{i}].spider: unknown spider {site.spider!r} "
                f"(known: {', '.join(sorted(known))})"
            )


def site_rules(config: Config | None, name: str) -> Any:
    """The extraction rules of a spider, or of the spider a configured site uses."""
    classes = spider_classes()
    spider = name if name in classes or config is None else config.site(name).spider
    if spider not in classes:
        raise ConfigError(
            f"unknown site or spider {name!r} (spiders: {', '.join(sorted(classes))})"
        )
    return getattr(classes[spider], "rules", None)
