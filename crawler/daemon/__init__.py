"""`newsmon run`: schedules, the supervised crawl processes, per-site locks, health, status."""
