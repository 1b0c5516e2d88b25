"""`make demo`: crawl the bundled replica sites offline and show the matches and the alerts.

Everything runs on 127.0.0.1: the two replica sites, an SMTP server and two webhook endpoints
that print what they receive. Three named alert channels show routing per watch: the
commodities desk reads rare earths in a morning e-mail digest (08:00 Berlin time on
weekdays, flushed here so the demo need not wait), the Japan desk gets Takaichi in its
Slack channel as it happens, and an Apprise JSON webhook gets everything plus the health
notices. The database stays in ``demo-out/`` so it can be browsed afterwards (``newsmon -c
demo-out/newsmon.yaml articles``, sqlite-utils, Datasette).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from replica.server import ReplicaServer
from replica.sinks import SmtpSink, WebhookSink
from replica.sites import caliber, eqmint

OUT = Path("demo-out")
HOOK_ENV = "NEWSMON_DEMO_OPS_HOOK"  # the Apprise URL, from the environment as in production


def demo_config(
    caliber_url: str,
    eqmint_url: str,
    smtp: SmtpSink,
    slack: WebhookSink,
    hook: WebhookSink | None = None,
) -> dict:
    """The shipped watches and sites, pointed at the local replicas, with three channels:
    an 08:00 e-mail digest, Slack instant, and (with ``hook``) an Apprise JSON webhook."""
    ops = ["ops-hook"] if hook is not None else []
    channels: list[dict] = [
        {
            "name": "morning-mail",
            "type": "email",
            "host": smtp.host,
            "port": smtp.port,
            "security": "none",
            "sender": "newsmon@localhost",
            "to": ["commodities-desk@localhost"],
            "digest": "0 8 * * 1-5",
            "timezone": "Europe/Berlin",
        },
        {"name": "japan-desk", "type": "slack", "webhook_url": slack.url, "mode": "instant"},
    ]
    if hook is not None:
        channels.append({"name": "ops-hook", "type": "apprise", "url_env": HOOK_ENV})
    return {
        "database": "newsmon.db",
        "watches": [
            {
                "name": "rare-earths",
                "query": '"rare earths"',
                "aliases": ['"редкоземельные металлы"', '"nadir torpaq elementləri"', "レアアース"],
                "channels": ["morning-mail", *ops],
            },
            {
                "name": "takaichi",
                "query": "Takaichi",
                "aliases": ["Такаити", "Такаичи", "Takaiçi"],
                "channels": ["japan-desk", *ops],
            },
        ],
        "sites": [
            {"name": "caliber", "spider": "caliber", "url": caliber_url},
            {"name": "eqmint", "spider": "eqmint", "url": eqmint_url},
        ],
        "alerts": {"channels": channels, **({"operator": ops} if ops else {})},
    }


def newsmon(config: Path, *args: str, env: dict[str, str] | None = None) -> None:
    """Run one newsmon command and let it print to the terminal."""
    full = {**os.environ, **(env or {})}
    command = [sys.executable, "-m", "crawler", "-c", str(config), *args]
    subprocess.run(command, check=False, env=full)


def show_mail(smtp: SmtpSink) -> None:
    for received in smtp.messages:
        msg = received.message
        print(f"--- mail to {', '.join(received.rcpt_tos)}: {msg['Subject']}")
        text = msg.get_body(preferencelist=("plain",))
        print(text.get_content() if text is not None else "(no text part)")


def show_slack(slack: WebhookSink) -> None:
    for post in slack.posts:
        print(f"--- japan-desk (Slack): {post.get('text', '')}")


def show_hook(hook: WebhookSink) -> None:
    for post in hook.posts:
        print(f"--- ops-hook (Apprise json://): {post.get('title', '')}")
    if hook.posts:
        print("The first message, as posted:")
        print(hook.posts[0].get("message", ""))


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir()
    with_apprise = importlib.util.find_spec("apprise") is not None
    with (
        ReplicaServer(caliber()) as cal,
        ReplicaServer(eqmint()) as eqm,
        SmtpSink() as smtp,
        WebhookSink() as slack,
        WebhookSink() as hook,
    ):
        doc = demo_config(cal.base_url, eqm.base_url, smtp, slack, hook if with_apprise else None)
        config = OUT / "newsmon.yaml"
        config.write_text(
            yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
        env = {HOOK_ENV: hook.apprise_url("json")}
        print(f"== replicas: Caliber.az at {cal.base_url}, EQMint at {eqm.base_url}")
        if not with_apprise:
            print("(Apprise is not installed: pip install 'newsmon[apprise]'; ops-hook left out)")
        print(f"\n== {config}: three desks, each watch routed to its channels")
        print(
            yaml.safe_dump(
                {"watches": doc["watches"], "alerts": doc["alerts"]},
                sort_keys=False,
                allow_unicode=True,
            )
        )
        newsmon(config, "check", env=env)
        print("\n== newsmon crawl (Slack and the webhook get their alerts now; the mail waits)")
        newsmon(config, "crawl", env=env)
        print("\n== newsmon articles (stories matching a watch)")
        newsmon(config, "articles")
        print(f"\n== {len(slack.posts)} Slack message(s) for the Japan desk: Takaichi only")
        show_slack(slack)
        print(f"\n== {len(hook.posts)} Apprise webhook message(s): every watch")
        show_hook(hook)
        print(f"\n== {len(smtp.messages)} mail(s) so far: the digest goes out at 08:00 Berlin time")
        print("== newsmon alerts flush morning-mail (send the held digest now)")
        newsmon(config, "alerts", "flush", "morning-mail", env=env)
        print(f"\n== {len(smtp.messages)} mail received by the local SMTP server: rare earths only")
        show_mail(smtp)
        sent = (len(smtp.messages), len(slack.posts), len(hook.posts))
        print("\n== a second crawl finds nothing new and sends nothing")
        newsmon(config, "crawl", env=env)
        after = (len(smtp.messages), len(slack.posts), len(hook.posts))
        print(f"(mails, Slack, webhook: {sent} before, {after} after)")
    print(
        f"\nThe database is {OUT / 'newsmon.db'}; try: "
        f".venv/bin/newsmon -c {config} search '\"rare earths\"'"
    )


if __name__ == "__main__":
    main()
