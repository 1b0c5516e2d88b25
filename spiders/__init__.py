"""Site spiders: one module per site, on the shared bases in ``spiders.base`` and
``spiders.sources``. Scrapy finds them through ``SPIDER_MODULES`` (``crawler.crawling.registry``).
"""
