"""Scrapy item pipelines, one module per concern, ordered in
crawler.crawling.settings.ITEM_PIPELINES."""
