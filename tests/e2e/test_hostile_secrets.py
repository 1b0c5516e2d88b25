"""Secrets: the SMTP password and the Slack webhook URL never show up in logs (at DEBUG, from
a crawl and from the daemon), in error messages, in `newsmon status` (text or JSON), or
anywhere in the SQLite file, whether delivery fails or succeeds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from replica.server import ReplicaServer
from replica.sinks import SmtpSink, WebhookSink
from tests.helpers import REPO, database_bytes, rows, run_newsmon, write_config

PASSWORD = "pw-Qx7-S3CRET-9z"
USER = "alerts-user"
SECRET_ENV = {"NEWSMON_TEST_SMTP_PASSWORD": PASSWORD}


def secrets_of(hook: WebhookSink) -> list[str]:
    """Every form a leak could take: the password, the whole URL, its secret path."""
    path = hook.url.split(str(hook.port), 1)[1]
    return [PASSWORD, hook.url, path, path.rsplit("/", 1)[-1]]


def assert_clean(where: str, text: str | bytes, hook: WebhookSink) -> None:
    data = text.encode() if isinstance(text, str) else text
    for secret in secrets_of(hook):
        assert secret.encode() not in data, f"{secret!r} leaked into {where}"


def run_daemon(config: Path, env: dict[str, str], until: float) -> str:
    """The daemon at DEBUG until ``until`` seconds pass, then SIGTERM; its stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "-c", str(config), "--log-level", "DEBUG", "run"],
        cwd=REPO,
        env={**os.environ, **env, "NEWSMON_DELIVER_EVERY": "1", "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(until)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err[-3000:]
    return out + err


def test_secrets_stay_out_of_logs_errors_status_and_the_database(
    tmp_path: Path, caliber_server: ReplicaServer
) -> None:
    with SmtpSink(credentials=(USER, PASSWORD)) as smtp, WebhookSink([500]) as hook:
        env = {**SECRET_ENV, "NEWSMON_TEST_SLACK_WEBHOOK": hook.url}
        smtp.data_reply = "451 4.3.0 try again later"
        config = write_config(
            tmp_path,
            [
                {
                    "name": "caliber",
                    "spider": "caliber",
                    "url": caliber_server.base_url,
                    "every": "2s",
                }
            ],
            alerts={
                "email": {
                    "host": "127.0.0.1",
                    "port": smtp.port,
                    "security": "none",
                    "username": USER,
                    "password_env": "NEWSMON_TEST_SMTP_PASSWORD",
                    "sender": "alerts@newsmon.test",
                    "to": ["analyst@newsmon.test"],
                },
                "slack": {"webhook_url_env": "NEWSMON_TEST_SLACK_WEBHOOK"},
                "backoff": "1s",
            },
        )
        # A crawl at DEBUG whose delivery fails on both channels: errors are recorded.
        crawl = run_newsmon(config, "--log-level", "DEBUG", "crawl", env=env)
        assert crawl.returncode == 0, crawl.stderr[-3000:]
        errors = [
            e
            for (e,) in rows(
                tmp_path / "newsmon.db",
                "SELECT last_error FROM alerts WHERE last_error IS NOT NULL",
            )
        ]
        assert any("451" in e for e in errors) and any("HTTP 500" in e for e in errors)
        # The daemon at DEBUG, the channels back: everything goes out.
        smtp.data_reply = None
        daemon = run_daemon(config, env, until=6)
        assert smtp.logins and smtp.messages and hook.posts
        # A channel that is down, and a login that is refused.
        hook.stop()
        slack_down = run_newsmon(config, "alerts", "test", "slack", env=env)
        assert slack_down.returncode == 1 and "failed" in slack_down.stderr
        bad_login = run_newsmon(
            config,
            "alerts",
            "test",
            "email",
            env={"NEWSMON_TEST_SMTP_PASSWORD": PASSWORD + "-wrong"},
        )
        assert bad_login.returncode == 1
        status = run_newsmon(config, "status", env=env)
        status_json = run_newsmon(config, "status", "--json", env=env)
        check = run_newsmon(config, "check", env=env)
        outputs = {
            "crawl": crawl.stdout + crawl.stderr,
            "daemon": daemon,
            "alerts test slack": slack_down.stdout + slack_down.stderr,
            "alerts test email": bad_login.stdout + bad_login.stderr,
            "status": status.stdout + status.stderr,
            "status --json": status_json.stdout + status_json.stderr,
            "check": check.stdout + check.stderr,
        }
        assert "DEBUG" in outputs["crawl"] and "DEBUG" in outputs["daemon"]
        for where, text in outputs.items():
            assert_clean(where, text, hook)
        assert_clean("the database", database_bytes(tmp_path / "newsmon.db"), hook)
