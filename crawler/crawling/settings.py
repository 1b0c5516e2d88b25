"""Scrapy settings for every newsmon crawl: polite defaults, our pipelines, NEWSMON_* knobs.

`scrapy list` / `scrapy crawl caliber` read this module through scrapy.cfg; `newsmon crawl`
starts from it and adds per-run values (config path, time limit).
"""

from __future__ import annotations

import os

BOT_NAME = "newsmon"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# Politeness: robots.txt, a per-domain cap, AutoThrottle adapting to the server's latency.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 32
CONCURRENT_REQUESTS_PER_DOMAIN = 8
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
# A daemon must not open control ports: no telnet console, no remote-control HTTP server.
REMOTE_CONTROL_ENABLED = False

# Faults: bounded time and size per response, a few retries, no endless redirects.
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
REDIRECT_MAX_TIMES = 5
# Retry-After on 429/503: wait before the retry (runs just before RetryMiddleware at 550).
DOWNLOADER_MIDDLEWARES = {
    "crawler.crawling.middlewares.SiteHostsMiddleware": 60,
    # Scrapy's decompression, but story pages are decompressed by the extraction workers.
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.crawling.middlewares.StoryCompressionMiddleware": 590,
    "crawler.crawling.middlewares.RetryAfterMiddleware": 560,
    # Last, next to the downloader: a cancelled crawl's requests fail here, not in its queues.
    "crawler.crawling.downloads.CancelledCrawlMiddleware": 1000,
}

# Scrapy's HTTP/1.1 handler, plus a way for the runtime to cancel one crawl's downloads.
DOWNLOAD_HANDLERS = {
    "http": "crawler.crawling.downloads.CancellableHTTPDownloadHandler",
    "https": "crawler.crawling.downloads.CancellableHTTPDownloadHandler",
}

ITEM_PIPELINES = {
    "pipelines.extract.ExtractPipeline": 100,
    "pipelines.canonical.CanonicalPipeline": 200,
    "pipelines.dedup.DedupPipeline": 300,
    "pipelines.store.StorePipeline": 400,
}

# The run record: writes each crawl's `runs` row from its stats (crawler.crawling.run_record).
EXTENSIONS = {
    "crawler.crawling.run_record.RunRecord": 500,
}

LOG_LEVEL = "INFO"
# Every run's numbers go to the `runs` table (crawler.crawling.run_record); Scrapy's own dump
# of its stats would add some 40 lines per crawl to the daemon's log.
STATS_DUMP = False
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
FEED_EXPORT_ENCODING = "utf-8"

# Memory stays flat on any crawl size: the engine stops taking responses while this many
# bytes of them are in the spider and the pipelines (extraction waits for one of the pool's
# NEWSMON_EXTRACT_PENDING slots), and one response's items go through the pipelines at most
# CONCURRENT_ITEMS at a time. Scrapy starts CONCURRENT_ITEMS asyncio tasks for every
# response, whatever it yields: a story page yields one item, and Scrapy's default of 100
# cost about 1 ms of the reactor's time per page (bench/crawl.py: 4.0 -> 2.8 ms). A
# sitemap's thousand links are requests, which pass the spider middlewares without waiting.
SCRAPER_SLOT_MAX_ACTIVE_SIZE = 5_000_000
CONCURRENT_ITEMS = 8
# Scrapy checks that a generator callback returns no value by reading its source and parsing
# it (inspect.getsource, ast.parse), meant once per callback; but its cache holds bound
# methods weakly, and a spider's bound method is a new object for every request, so the
# check ran for every page: ~4% of the reactor's time. newsmon's spiders are tested code, and
# sites added by configuration bring none.
WARN_ON_GENERATOR_RETURN_VALUE = False

# newsmon's own knobs
NEWSMON_CONFIG = None  # config file; None: $NEWSMON_CONFIG, else config/newsmon.yaml
NEWSMON_SITE_PROFILE = True  # learn each site's boilerplate and title affix from its stories
NEWSMON_LAYOUTS = True  # read bodies where a site's pages agree they sit (extract/layouts.py)
NEWSMON_BATCH_SIZE = 50  # stories per database transaction
NEWSMON_STORE_ENABLED = True
NEWSMON_LISTING_PAGES = 3  # pages of a paginated listing followed per run
NEWSMON_SITEMAP_MAXSIZE = 50 * 1024 * 1024  # decompressed size limit of one sitemap
# Story links read from one feed/sitemap/listing: the sitemap protocol's own limit per file.
NEWSMON_MAX_SOURCE_ITEMS = 50_000
# Story pages fetched per run, newest first; the rest are deferred to the next runs.
NEWSMON_MAX_RUN_FETCHES = 1000
NEWSMON_BACKFILL_DAYS = 0  # `newsmon crawl --backfill DAYS`: overrides sites' max_age for a run
NEWSMON_BACKFILL_PAGES = 20  # pages of a paginated listing followed in a backfill run
NEWSMON_RETRY_AFTER_MAX = 120  # longest wait (s) a Retry-After may impose before a retry
NEWSMON_RETRY_429_DELAY = 5  # wait (s) before retrying a 429 without Retry-After; doubles
# Extraction worker processes: unset = one per core (none on a single core), 0 = in the crawl
# process. The environment variable sets it for `newsmon crawl` and the daemon alike.
NEWSMON_EXTRACT_WORKERS = os.environ.get("NEWSMON_EXTRACT_WORKERS") or None
# Pages in flight per extraction worker before responses wait (bench/crawl.py: 8 gave 7%
# more pages a second than 4; 16 no more than 4).
NEWSMON_EXTRACT_PENDING = 8
