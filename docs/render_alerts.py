"""Render the README's alert pictures: crawl the replicas, catch the mail, the Slack post and
the Apprise webhook's message locally, save the HTML mail and take a screenshot of it with
headless Chromium.

    .venv/bin/python docs/render_alerts.py   # needs Debian's chromium
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from replica.demo import HOOK_ENV, demo_config
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
        WebhookSink() as slack,
        WebhookSink() as hook,
    ):
        config = Path(tmp) / "newsmon.yaml"
        doc = demo_config(cal.base_url, eqm.base_url, smtp, slack, hook)
        doc["sites"] = doc["sites"][:1]  # Caliber alone keeps the digest short for a picture
        for watch in doc["watches"]:
            del watch["channels"]  # every story on every channel: one of each kind to show
        config.write_text(yaml.safe_dump(doc))
        env = {**os.environ, HOOK_ENV: hook.apprise_url("json")}
        for command in (["crawl"], ["alerts", "flush"]):  # the flush sends the held digest
            crawler = [sys.executable, "-m", "crawler", "-c", str(config), *command]
            subprocess.run(crawler, check=True, env=env)
        html = smtp.messages[0].message.get_body(preferencelist=("html",)).get_content()
        (DOCS / "alert-email.html").write_text(html)
        (DOCS / "alert-slack.json").write_text(json.dumps(slack.posts[0], indent=2) + "\n")
        apprise = json.dumps(hook.posts[0], indent=2, ensure_ascii=False)
        (DOCS / "alert-apprise.json").write_text(apprise + "\n")
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
