"""Configuration: the shipped file is valid; every mistake is one error naming the key."""

from __future__ import annotations

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
