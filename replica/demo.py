"""`make demo`: crawl the bundled replica sites offline and show the matches and the alerts.

Everything runs on 127.0.0.1: the two replica sites, an SMTP server and a Slack-style
webhook endpoint that print what they receive. The database stays in ``demo-out/`` so it can
be browsed afterwards (``newsmon -c demo-out/newsmon.yaml articles``, sqlite-utils, Datasette).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from replica.server import ReplicaServer
from replica.sinks import SmtpSink, WebhookSink
from replica.sites import caliber, eqmint

OUT = Path("demo-out")


def demo_config(caliber_url: str, eqmint_url: str, smtp: SmtpSink, hook: WebhookSink) -> dict:
    """The shipped watches and sites, pointed at the local replicas and sinks."""
    return {
        "database": "newsmon.db",
        "watches": [
            {
                "name": "rare-earths",
                "query": '"rare earths"',
                "aliases": ['"редкоземельные металлы"', '"nadir torpaq elementləri"', "レアアース"],
            },
            {"name": "takaichi", "query": "Takaichi", "aliases": ["Такаити", "Такаичи", "Takaiçi"]},
        ],
        "sites": [
            {"name": "caliber", "spider": "caliber", "url": caliber_url},
            {"name": "eqmint", "spider": "eqmint", "url": eqmint_url},
        ],
        "alerts": {
            "email": {
                "host": smtp.host,
                "port": smtp.port,
                "security": "none",
                "sender": "newsmon@localhost",
                "to": ["analyst@localhost"],
                "mode": "digest",
            },
            "slack": {"webhook_url": hook.url, "mode": "instant"},
        },
    }


def newsmon(config: Path, *args: str) -> None:
    """Run one newsmon command and let it print to the terminal."""
    subprocess.run([sys.executable, "-m", "crawler", "-c", str(config), *args], check=False)


def show_mail(smtp: SmtpSink) -> None:
    for received in smtp.messages:
        msg = received.message
        print(f"--- mail to {', '.join(received.rcpt_tos)}: {msg['Subject']}")
        text = msg.get_body(preferencelist=("plain",))
        print(text.get_content() if text is not None else "(no text part)")


def show_slack(hook: WebhookSink) -> None:
    for post in hook.posts:
        print(f"--- slack: {post.get('text', '')}")


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    with (
        ReplicaServer(caliber()) as cal,
        ReplicaServer(eqmint()) as eqm,
        SmtpSink() as smtp,
        WebhookSink() as hook,
    ):
        config = OUT / "newsmon.yaml"
        config.write_text(
            yaml.safe_dump(
                demo_config(cal.base_url, eqm.base_url, smtp, hook),
                sort_keys=False,
                allow_unicode=True,
            ),
            encoding="utf-8",
        )
        print(f"== replicas: Caliber.az at {cal.base_url}, EQMint at {eqm.base_url}\n")
        print("== newsmon crawl")
        newsmon(config, "crawl")
        print("\n== newsmon articles (stories matching a watch)")
        newsmon(config, "articles")
        print(f"\n== {len(smtp.messages)} mail(s) received by the local SMTP server")
        show_mail(smtp)
        print(f"\n== {len(hook.posts)} Slack message(s) received by the local webhook")
        show_slack(hook)
        print("\n== a second crawl finds nothing new and sends nothing")
        newsmon(config, "crawl")
        print(f"(mails: {len(smtp.messages)}, Slack messages: {len(hook.posts)})")
    print(
        f"\nThe database is {OUT / 'newsmon.db'}; try: "
        f".venv/bin/newsmon -c {config} search '\"rare earths\"'"
    )


if __name__ == "__main__":
    main()
