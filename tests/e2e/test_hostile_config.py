"""Configuration mistakes beyond tests/test_config.py's table: each is one line naming the key
(or the file's line, or the environment variable), never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from crawler.config import ConfigError, load_config, parse_config
from crawler.crawling.runner import environment_settings, hard_stop_grace
from tests.helpers import run_newsmon

BASE = {
    "watches": [{"name": "rare-earths", "query": '"rare earths"'}],
    "sites": [{"name": "caliber", "spider": "caliber", "url": "https://caliber.az/en/"}],
}
EMAIL = {"host": "h", "sender": "a@example.org", "to": ["c@example.org"]}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"health_silence": "2x"}, "health_silence: bad interval '2x'"),
        ({"user_agent": "newsmon\r\nX-Evil: 1"}, "user_agent: must be one non-empty line"),
        ({"user_agent": " "}, "user_agent: must be one non-empty line"),
        ({"database": ""}, "database: give the SQLite file's path"),
        (
            {"alerts": {"email": {**EMAIL, "to": ["c@example.org\r\nBcc: x@evil.example"]}}},
            "alerts.email.to: not a mail address",
        ),
        ({"alerts": {"email": {**EMAIL, "sender": "nobody"}}}, "alerts.email.sender"),
        ({"alerts": {"email": {**EMAIL, "password": "hunter2"}}}, "alerts.email.password"),
        ({"alerts": {"slack": {"webhook_url": "hooks.slack.com/x"}}}, "alerts.slack.webhook_url"),
        ({"alerts": {"email": {**EMAIL, "port": 0}}}, "alerts.email.port"),
        ({"alerts": {"max_attempts": 0}}, "alerts.max_attempts"),
        ({"sites": [{**BASE["sites"][0], "time_limit": "0s"}]}, "sites[0].time_limit"),
        ({"sites": [{**BASE["sites"][0], "feeds": "http://x/"}]}, "sites[0].feeds"),
        ({"sites": "caliber"}, "sites: Input should be a valid list"),
        ({"watches": [{"name": "a b", "query": "x"}]}, "watches[0].name: bad name"),
    ],
)
def test_each_mistake_is_one_line_naming_its_key(changes: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config({**BASE, **changes}, Path("cfg.yaml"))
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_secrets_are_not_quoted_in_errors() -> None:
    url = "ftp://hooks.example/services/T0/B0/s3cr3t"
    with pytest.raises(ConfigError) as err:
        parse_config({**BASE, "alerts": {"slack": {"webhook_url": url}}}, Path("cfg.yaml"))
    assert "s3cr3t" not in str(err.value)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"database: caf\xe9.db\n", "not UTF-8 text"),
        (b"sites: [\n", "not valid YAML: line 2, column 1"),
        (b"database: a.db\ndatabase: b.db\n", "not valid YAML: line 2, column 1: duplicate key"),
        (
            b"sites:\n  - name: a\n    spider: generic\n    url: http://a/\n    name: b\n",
            "line 5, column 5: duplicate key 'name'",
        ),
        (b"a: *nowhere\n", "undefined alias"),
        (b"- just\n- a list\n", "the top level must be a mapping"),
    ],
)
def test_unreadable_files_are_one_line_errors(
    tmp_path: Path, content: bytes, expected: str
) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert expected in str(err.value)
    assert "\n" not in str(err.value)


def test_a_config_that_is_a_folder_or_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path)


def test_environment_overrides_are_checked_and_named() -> None:
    found = environment_settings({"NEWSMON_DOWNLOAD_TIMEOUT": "2.5", "NEWSMON_RETRY_TIMES": "1"})
    assert found == {"DOWNLOAD_TIMEOUT": 2.5, "RETRY_TIMES": 1}
    with pytest.raises(ConfigError, match="^NEWSMON_DOWNLOAD_MAXSIZE: not a non-negative number"):
        environment_settings({"NEWSMON_DOWNLOAD_MAXSIZE": "8MB"})
    with pytest.raises(ConfigError, match="^NEWSMON_HARD_STOP_GRACE: not a number"):
        hard_stop_grace({"NEWSMON_HARD_STOP_GRACE": "soon"})
    assert hard_stop_grace({}) == 20


def test_crawl_with_a_bad_environment_override_fails_before_crawling(tmp_path: Path) -> None:
    config = tmp_path / "cfg.yaml"
    doc = {**BASE, "sites": [{"name": "x", "spider": "generic", "url": "http://127.0.0.1:9/"}]}
    config.write_text(yaml.safe_dump(doc))
    result = run_newsmon(config, "crawl", env={"NEWSMON_DOWNLOAD_TIMEOUT": "-1"})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "Error: NEWSMON_DOWNLOAD_TIMEOUT: not a non-negative number: '-1'"
    ]
