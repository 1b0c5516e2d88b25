"""`python -m crawler` is `newsmon` (the daemon starts crawls this way)."""

from crawler.cli import main

main()
