"""Running crawls: Scrapy settings, middlewares, the spider registry and the crawl runner."""
