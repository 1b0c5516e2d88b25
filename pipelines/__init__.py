"""Scrapy item pipelines, one module per concern, ordered in crawler.settings.ITEM_PIPELINES."""
