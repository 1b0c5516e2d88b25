"""Configuration: the shipped file is valid; every mistake is one error naming the key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from crawler.config import ConfigError, load_config, parse_config
from crawler.crawling.registry import check_spiders
from tests.helpers import REPO

BASE = {
    "watches": [{"name": "rare-earths", "query": '"rare earths"'}],
    "sites": [{"name": "caliber", "spider": "caliber", "url": "https://caliber.az/en/"}],
}


def with_changes(**changes: object) -> dict:
    doc = yaml.safe_load(yaml.safe_dump(BASE))
    for path, value in changes.items():
        target = doc
        keys = path.split("__")
        for key in keys[:-1]:
            target = target[int(key)] if key.isdigit() else target[key]
        last = keys[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return doc


def test_shipped_config_is_valid_and_watches_the_seed_topics() -> None:
    cfg = load_config(REPO / "config/newsmon.yaml")
    assert {w.name for w in cfg.watches} == {"rare-earths", "takaichi"}
    aliases = {w.name: w.aliases for w in cfg.watches}
    assert "Такаити" in aliases["takaichi"] and "高市早苗" in aliases["takaichi"]
    assert '"редкоземельные металлы"' in aliases["rare-earths"]
    assert [(s.name, s.spider) for s in cfg.sites] == [("caliber", "caliber"), ("eqmint", "eqmint")]
    assert cfg.site("caliber").url == "https://caliber.az/en/"
    assert cfg.database.is_absolute() or cfg.database.parent == REPO / "config/.."


def test_relative_database_resolves_against_the_config_folder(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "cfg.yaml"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump({**BASE, "database": "data/x.db"}))
    assert load_config(path).database == path.parent / "data/x.db"


def test_config_found_through_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "env.yaml"
    path.write_text(yaml.safe_dump(BASE))
    monkeypatch.setenv("NEWSMON_CONFIG", str(path))
    assert load_config().path == path


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"sites__0__every": "5x"}, "sites[0].every: bad interval '5x'"),
        ({"sites__0__cron": "61 * * * *"}, "sites[0].cron: bad cron expression"),
        ({"sites__0__spider": "nope"}, "sites[0].spider: unknown spider 'nope'"),
        ({"sites__0__article_pattern": "(unclosed"}, "sites[0].article_pattern: bad regex"),
        ({"sites__0__url": "caliber.az"}, "sites[0].url: not an http(s) URL"),
        ({"sites__0__colour": "red"}, "sites[0].colour: unknown key"),
        ({"databse": "x.db"}, "databse: unknown key"),
        ({"watches__0__query": '"rare earths'}, "watches[0].query: watch 'rare-earths': bad query"),
        ({"watches__0__query": "AND"}, "watches[0].query"),
        (
            {"watches__0__aliases": ["Такаити", "高市", '"nadir torpaq']},
            "watches[0].aliases[2]: watch 'rare-earths': bad query '\"nadir torpaq'",
        ),
        ({"watches__0__aliases": ["ok", "NOT"]}, "watches[0].aliases[1]: watch 'rare-earths'"),
        ({"watches__0__aliases": ["ok", " "]}, "watches[0].aliases[1]: watch 'rare-earths': empty"),
        ({"watches__0__aliases": "Такаити"}, "watches[0].aliases: Input should be a valid list"),
        ({"alerts": {"email": {"host": "h", "sender": "a@b"}}}, "alerts.email.to: Field required"),
        ({"alerts": {"slack": {"mode": "instant"}}}, "alerts.slack: give 'webhook_url_env'"),
        (
            {"alerts": {"email": {"host": "h", "sender": "a@b", "to": ["c@d"], "security": "tls"}}},
            "alerts.email.security",
        ),
        ({"sites__0__every": "15m", "sites__0__cron": "* * * * *"}, "either 'every' or 'cron'"),
    ],
)
def test_each_mistake_names_its_key(changes: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        # What `newsmon check` runs: the file's own checks, then the spider names.
        check_spiders(parse_config(with_changes(**changes), Path("cfg.yaml")))
    message = str(err.value)
    assert expected in message
    assert "\n" not in message


def test_duplicate_site_names_are_rejected() -> None:
    doc = with_changes()
    doc["sites"].append(dict(doc["sites"][0]))
    with pytest.raises(ConfigError, match="duplicate sites name 'caliber'"):
        parse_config(doc)


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("sites: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


# --- alert channels ----------------------------------------------------------------------------

SLACK = {"webhook_url_env": "NEWSMON_JAPAN_SLACK"}
MAIL = {"host": "smtp.example.org", "sender": "a@example.org", "to": ["desk@example.org"]}


def with_alerts(alerts: dict, watch_channels: list[str] | None = None) -> dict:
    doc = with_changes(alerts=alerts)
    if watch_channels is not None:
        doc["watches"][0]["channels"] = watch_channels
    return doc


def test_named_channels_route_watches_and_notices() -> None:
    doc = with_alerts(
        {
            "channels": [
                {
                    "name": "morning-mail",
                    "type": "email",
                    **MAIL,
                    "digest": "0 8 * * 1-5",
                    "timezone": "Europe/Berlin",
                },
                {"name": "japan-desk", "type": "slack", **SLACK},
                {"name": "ops-hook", "type": "apprise", "url_env": "NEWSMON_OPS_HOOK"},
            ],
            "operator": ["ops-hook"],
        },
        watch_channels=["morning-mail", "ops-hook"],
    )
    doc["watches"].append({"name": "takaichi", "query": "Takaichi"})

    cfg = parse_config(doc)

    assert list(cfg.alerts.named) == ["morning-mail", "japan-desk", "ops-hook"]
    assert cfg.routes() == {
        "rare-earths": ("morning-mail", "ops-hook"),
        "takaichi": ("morning-mail", "japan-desk", "ops-hook"),  # no channels: every channel
    }
    assert cfg.alerts.operator_channels() == ["ops-hook"]
    mail = cfg.alerts.named["morning-mail"]
    assert mail.is_digest and mail.digest == "0 8 * * 1-5" and mail.timezone == "Europe/Berlin"
    assert not cfg.alerts.named["japan-desk"].is_digest  # Slack is instant unless told


def test_existing_email_and_slack_keys_are_channels_named_email_and_slack() -> None:
    cfg = parse_config(with_alerts({"email": MAIL, "slack": SLACK}))
    assert list(cfg.alerts.named) == ["email", "slack"]
    assert cfg.alerts.named["email"].is_digest and not cfg.alerts.named["slack"].is_digest
    assert cfg.routes() == {"rare-earths": ("email", "slack")}
    assert cfg.alerts.operator_channels() == ["email", "slack"]


def test_a_watch_with_no_channels_alerts_nowhere() -> None:
    cfg = parse_config(with_alerts({"slack": SLACK}, watch_channels=[]))
    assert cfg.routes() == {"rare-earths": ()}


@pytest.mark.parametrize(
    ("alerts", "watch_channels", "expected"),
    [
        (
            {"slack": SLACK},
            ["japan-desk"],
            "watches[0].channels[0]: unknown channel 'japan-desk' (configured: slack)",
        ),
        (
            {"slack": SLACK, "operator": ["slack", "pager"]},
            None,
            "alerts.operator[1]: unknown channel 'pager' (configured: slack)",
        ),
        (
            {"slack": SLACK, "channels": [{"name": "slack", "type": "slack", **SLACK}]},
            None,
            "alerts.channels[0].name: duplicate channel name 'slack'",
        ),
        (
            {
                "channels": [
                    {"name": "a", "type": "slack", **SLACK},
                    {"name": "a", "type": "email", **MAIL},
                ]
            },
            None,
            "alerts.channels[1].name: duplicate channel name 'a'",
        ),
        (
            {"channels": [{"type": "slack", **SLACK}]},
            None,
            "alerts.channels[0]: give the channel a name",
        ),
        (
            {"channels": [{"name": "x", **SLACK}]},
            None,
            "alerts.channels[0]: give the channel's type (email, slack, apprise)",
        ),
        (
            {"channels": [{"name": "x", "type": "teams"}]},
            None,
            "alerts.channels[0]: unknown channel type 'teams' (email, slack, apprise)",
        ),
        (
            {"channels": [{"name": "x", "type": "email", **MAIL, "hots": "y"}]},
            None,
            "alerts.channels[0].hots: unknown key",
        ),
        (
            {"channels": [{"name": "x y", "type": "slack", **SLACK}]},
            None,
            "alerts.channels[0].name: bad name 'x y'",
        ),
        (
            {"channels": [{"name": "x", "type": "apprise"}]},
            None,
            "alerts.channels[0]: give 'url_env' (or 'url' for local testing)",
        ),
        (
            {"channels": [{"name": "x", "type": "apprise", "url": "not a url"}]},
            None,
            "alerts.channels[0].url: not an Apprise URL",
        ),
        (
            {"channels": [{"name": "x", "type": "slack", **SLACK, "digest": "0 8 * *"}]},
            None,
            "alerts.channels[0].digest: bad cron expression '0 8 * *'",
        ),
        (
            {"channels": [{"name": "x", "type": "slack", **SLACK, "digest": "0 25 * * *"}]},
            None,
            "alerts.channels[0].digest: bad cron expression '0 25 * * *'",
        ),
        (
            {
                "channels": [
                    {
                        "name": "x",
                        "type": "slack",
                        **SLACK,
                        "digest": "0 8 * * *",
                        "timezone": "Mars/Olympus",
                    }
                ]
            },
            None,
            "alerts.channels[0].timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            {"channels": [{"name": "x", "type": "slack", **SLACK, "timezone": "UTC"}]},
            None,
            "alerts.channels[0]: 'timezone' applies to a 'digest' schedule",
        ),
        (
            {
                "channels": [
                    {
                        "name": "x",
                        "type": "slack",
                        **SLACK,
                        "digest": "0 8 * * *",
                        "mode": "instant",
                    }
                ]
            },
            None,
            "alerts.channels[0]: a 'digest' schedule needs mode: digest",
        ),
        ({"email": {**MAIL, "name": "mail"}}, None, "alerts.email.name: this channel is named"),
    ],
)
def test_each_channel_mistake_names_its_key(
    alerts: dict, watch_channels: list[str] | None, expected: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(with_alerts(alerts, watch_channels), Path("cfg.yaml"))
    assert str(err.value).startswith(f"cfg.yaml: {expected}")
    assert "\n" not in str(err.value)


def test_an_apprise_channel_without_apprise_installed_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = with_alerts({"channels": [{"name": "ops", "type": "apprise", "url_env": "X"}]})
    parse_config(doc)  # installed in the test environment (the `test` extra)
    monkeypatch.setitem(sys.modules, "apprise", None)  # what an uninstalled package looks like

    with pytest.raises(ConfigError) as err:
        parse_config(doc, Path("cfg.yaml"))
    assert str(err.value) == (
        "cfg.yaml: alerts.channels[0]: channel 'ops' of type apprise needs the Apprise "
        "library: pip install 'newsmon[apprise]'"
    )


def test_the_readme_alerts_example_is_a_valid_config() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("\n## Alerts\n") :]
    example = section[
        section.index("```yaml\n") + 8 : section.index("\n```", section.index("```yaml"))
    ]

    cfg = parse_config({**yaml.safe_load(example), "sites": BASE["sites"]})

    assert list(cfg.alerts.named) == ["morning-mail", "japan-desk", "ops-hook"]
    assert cfg.routes() == {
        "rare-earths": ("morning-mail", "ops-hook"),
        "takaichi": ("japan-desk", "ops-hook"),
    }
    assert cfg.alerts.operator_channels() == ["ops-hook"]
