"""newsmon is also an ordinary Scrapy project: `scrapy list` and `scrapy crawl SITE` work
from the repository root and store into the configured database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from replica.server import ReplicaServer
from tests.helpers import REPO, write_config

SCRAPY = [sys.executable, "-m", "scrapy.cmdline"]


def scrapy(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*SCRAPY, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_scrapy_list_names_every_spider() -> None:
    result = scrapy("list")
    assert result.returncode == 0, result.stderr
    assert {"caliber", "eqmint", "generic"} <= set(result.stdout.split())


def test_scrapy_crawl_uses_the_config_from_the_environment(
    tmp_path: Path, caliber_server: ReplicaServer
) -> None:
    config = write_config(
        tmp_path, [{"name": "caliber", "spider": "caliber", "url": caliber_server.base_url}]
    )
    result = scrapy(
        "crawl", "caliber", "-s", "LOG_LEVEL=WARNING", env={"NEWSMON_CONFIG": str(config)}
    )
    assert result.returncode == 0, result.stderr
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    stored = conn.execute("SELECT count(*) FROM articles WHERE site = 'caliber'").fetchone()[0]
    (status,) = conn.execute("SELECT status FROM runs").fetchone()
    conn.close()
    assert stored >= 10 and status == "ok"
