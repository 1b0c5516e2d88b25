"""Render the README's alert pictures: crawl the replicas, catch the mail and the Slack post
locally, save the HTML mail and take a screenshot of it with headless Chromium.

    .venv/bin/python docs/render_alerts.py   # needs Debian's chromium
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from replica.demo import demo_config
from replica.server import ReplicaServer
from replica.sinks import SmtpSink, WebhookSink
from replica.sites import caliber, eqmint

DOCS = Path(__file__).parent
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def main() -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        ReplicaServer(caliber()) as cal,
        ReplicaServer(eqmint()) as eqm,
        SmtpSink() as smtp,
        WebhookSink() as hook,
    ):
        config = Path(tmp) / "newsmon.yaml"
        doc = demo_config(cal.base_url, eqm.base_url, smtp, hook)
        doc["sites"] = doc["sites"][:1]  # Caliber alone keeps the digest short for a picture
        config.write_text(yaml.safe_dump(doc))
        subprocess.run([sys.executable, "-m", "crawler", "-c", str(config), "crawl"], check=True)
        html = smtp.messages[0].message.get_body(preferencelist=("html",)).get_content()
        (DOCS / "alert-email.html").write_text(html)
        (DOCS / "alert-slack.json").write_text(json.dumps(hook.posts[0], indent=2) + "\n")
        subprocess.run(
            [
                "chromium",
                *CHROMIUM_FLAGS,
                f"--user-data-dir={tmp}/chrome",
                f"--screenshot={DOCS / 'alert-email.png'}",
                "--window-size=900,1100",
                (DOCS / "alert-email.html").resolve().as_uri(),
            ],
            check=True,
            capture_output=True,
        )


if __name__ == "__main__":
    main()
