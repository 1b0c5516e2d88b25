"""Only the site's own host is crawled: a redirect to another host is not followed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from replica.server import ReplicaServer
from tests.helpers import run_newsmon, write_config


def test_redirect_to_another_host_is_dropped(
    tmp_path: Path, caliber_server: ReplicaServer, eqmint_server: ReplicaServer
) -> None:
    # "localhost" is another host name than the site's 127.0.0.1, served by the other replica.
    elsewhere = eqmint_server.origin.replace("127.0.0.1", "localhost") + "/"
    caliber_server.set_fault(
        "/en/post/oil-prices-edge-higher-amid-supply-concerns",
        "status",
        code=302,
        headers={"Location": elsewhere},
    )
    config = write_config(
        tmp_path, [{"name": "caliber", "spider": "caliber", "url": caliber_server.base_url}]
    )
    result = run_newsmon(config, "crawl")
    assert result.returncode == 0, result.stderr
    assert not eqmint_server.requests, "a request reached another host"
    conn = sqlite3.connect(tmp_path / "newsmon.db")
    hosts = {u.split("/")[2] for (u,) in conn.execute("SELECT url FROM articles")}
    status, reasons = conn.execute("SELECT status, skip_reasons FROM runs").fetchone()
    conn.close()
    assert hosts == {caliber_server.origin.split("/")[2]}
    # Accounted for as another site's page, not as a failure of this site.
    assert (status, reasons) == ("ok", '{"off_site": 1}')
