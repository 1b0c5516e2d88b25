"""Configuration: one YAML file validated into typed models.

Where the file is found: ``newsmon -c PATH``, else ``$NEWSMON_CONFIG``, else
``config/newsmon.yaml``. Relative paths inside it resolve against the file's own folder.
Every problem is reported as a :class:`ConfigError` naming the key path, before anything runs.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawler.db.matching import QueryError, WatchQuery, validate_query

DEFAULT_CONFIG = Path("config/newsmon.yaml")
ENV_CONFIG = "NEWSMON_CONFIG"

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_BREAKS = re.compile(r"[\r\n\x00]")


class ConfigError(Exception):
    """The configuration is invalid; the message names the key path."""


def parse_interval(value: str) -> timedelta:
    """Parse ``30s``, ``15m``, ``2h`` or ``1d`` into a timedelta."""
    m = _INTERVAL.match(str(value))
    if not m or int(m.group(1)) == 0:
        raise ValueError(f"bad interval {value!r} (use e.g. 30s, 15m, 2h, 1d)")
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Watch(_Model):
    """A topic to alert on."""

    name: str = Field(description="Unique name, used in the database and on the CLI.")
    query: str = Field(description="SQLite FTS5 query over title + body.")
    aliases: list[str] = Field(
        default_factory=list,
        description="The query's forms in other languages and scripts, each an FTS5 query; "
        "a story matches when the query or any alias does.",
    )

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"bad name {v!r} (letters, digits, '-', '_', '.')")
        return v

    def matcher(self) -> WatchQuery:
        """The watch as matching takes it: name, query and aliases."""
        return WatchQuery(self.name, self.query, tuple(self.aliases))


class Site(_Model):
    """A news site and how to crawl it."""

    name: str = Field(description="Unique name, used on the CLI and in the database.")
    spider: str = Field(description="Spider name from `scrapy list`; `generic` for config-only.")
    url: str = Field(description="Base URL; every endpoint the spider uses derives from it.")
    every: str | None = Field(None, description="Interval schedule: 30s, 15m, 2h, 1d.")
    cron: str | None = Field(None, description="Cron schedule, e.g. '*/15 * * * *'.")
    feeds: list[str] = Field(default_factory=list, description="RSS/Atom/JSON feed URLs.")
    sitemaps: list[str] = Field(default_factory=list, description="XML sitemap URLs.")
    listings: list[str] = Field(default_factory=list, description="Listing (section) pages.")
    article_pattern: str | None = Field(None, description="Regex that story URLs match.")
    max_age: str | None = Field(
        None, description="Skip stories published longer ago than this (e.g. 7d) on discovery."
    )
    recheck: str = Field(
        "1d",
        description="Re-check stories first seen within recheck_days for edits at least this "
        "often, even when no feed, sitemap or listing shows a change (conditional GET).",
    )
    wordpress: bool | None = Field(
        None,
        description="Use the WordPress REST API (/wp-json/wp/v2/posts, and its search for the "
        "watches' words): true or false; unset: detected on each crawl (generic spider).",
    )
    time_limit: str = Field("10m", description="A crawl running longer than this is stopped.")
    enabled: bool = Field(True, description="A disabled site is neither scheduled nor crawled.")

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"bad name {v!r} (letters, digits, '-', '_', '.')")
        return v

    @field_validator("url", "feeds", "sitemaps", "listings")
    @classmethod
    def _urls_ok(cls, v: str | list[str]) -> str | list[str]:
        for url in [v] if isinstance(v, str) else v:
            if not re.match(r"^https?://[^/\s]+", url):
                raise ValueError(f"not an http(s) URL: {url!r}")
        return v

    @field_validator("every", "time_limit", "max_age", "recheck")
    @classmethod
    def _interval_ok(cls, v: str | None) -> str | None:
        if v is not None:
            parse_interval(v)
        return v

    @field_validator("cron")
    @classmethod
    def _cron_ok(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                CronTrigger.from_crontab(v)
            except ValueError as exc:
                raise ValueError(f"bad cron expression {v!r}: {exc}") from None
        return v

    @field_validator("article_pattern")
    @classmethod
    def _regex_ok(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                re.compile(v)
            except re.error as exc:
                raise ValueError(f"bad regex {v!r}: {exc}") from None
        return v

    @model_validator(mode="after")
    def _one_schedule(self) -> Site:
        if self.every and self.cron:
            raise ValueError("give either 'every' or 'cron', not both")
        return self

    @property
    def interval(self) -> timedelta | None:
        """The `every:` schedule, or the default of 15 minutes when no cron is given."""
        if self.cron:
            return None
        return parse_interval(self.every or "15m")

    @property
    def time_limit_seconds(self) -> float:
        return parse_interval(self.time_limit).total_seconds()


class EmailChannel(_Model):
    """SMTP delivery."""

    host: str = Field(description="SMTP server host.")
    port: int = Field(587, ge=1, le=65535, description="SMTP server port.")
    security: Literal["none", "starttls", "ssl"] = Field("starttls", description="Transport.")
    username: str | None = Field(None, description="Login name, if the server wants one.")
    password_env: str | None = Field(None, description="Environment variable with the password.")
    sender: str = Field(description="From: address.")
    to: list[str] = Field(min_length=1, description="Recipients.")
    mode: Literal["digest", "instant"] = Field("digest", description="One mail per pass or story.")
    timeout: float = Field(30, gt=0, description="Seconds before an SMTP operation gives up.")

    @field_validator("sender", "to")
    @classmethod
    def _addresses_ok(cls, v: str | list[str]) -> str | list[str]:
        # An address is one header value: a line break in it would start a new header.
        for address in [v] if isinstance(v, str) else v:
            if "@" not in address or _BREAKS.search(address):
                raise ValueError(f"not a mail address: {address!r}")
        return v

    def password(self) -> str | None:
        """The password, read from the environment at the moment it is needed."""
        return os.environ.get(self.password_env) if self.password_env else None


class SlackChannel(_Model):
    """Slack incoming webhook delivery."""

    webhook_url_env: str | None = Field(None, description="Env variable with the webhook URL.")
    webhook_url: str | None = Field(None, description="Webhook URL inline (local testing only).")
    mode: Literal["digest", "instant"] = Field("instant", description="One post per pass or story.")
    timeout: float = Field(15, gt=0, description="Seconds before a post gives up.")

    @field_validator("webhook_url")
    @classmethod
    def _url_ok(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^/\s]+", v):
            raise ValueError("not an http(s) URL")  # the URL itself is a secret: not quoted
        return v

    @model_validator(mode="after")
    def _has_url(self) -> SlackChannel:
        if not (self.webhook_url_env or self.webhook_url):
            raise ValueError("give 'webhook_url_env' (or 'webhook_url' for local testing)")
        return self

    def url(self) -> str | None:
        """The webhook URL, read from the environment when configured that way."""
        if self.webhook_url_env:
            return os.environ.get(self.webhook_url_env)
        return self.webhook_url


class Alerts(_Model):
    """Alert channels and delivery policy."""

    email: EmailChannel | None = None
    slack: SlackChannel | None = None
    max_attempts: int = Field(8, ge=1, description="Attempts before an alert is marked failed.")
    backoff: str = Field("1m", description="First retry delay; doubles on every attempt.")

    @field_validator("backoff")
    @classmethod
    def _interval_ok(cls, v: str) -> str:
        parse_interval(v)
        return v

    @property
    def channels(self) -> dict[str, EmailChannel | SlackChannel]:
        """Configured channels by their config key."""
        found = {"email": self.email, "slack": self.slack}
        return {k: v for k, v in found.items() if v is not None}


class Config(_Model):
    """The whole configuration file."""

    database: Path = Field(Path("newsmon.db"), description="SQLite file.")
    feed_file: Path | None = Field(
        None, description="Atom feed of matched stories that the daemon rewrites after each crawl."
    )
    user_agent: str = Field(
        "newsmon/0.1 (+https://github.com/newsmon/newsmon)",
        description="User-Agent sent to sites; put a contact URL in it.",
    )
    recheck_days: float = Field(3, ge=0, description="Re-check stories this recent for edits.")
    health_failures: int = Field(3, ge=1, description="Errors in a row before a health alert.")
    health_silence: str = Field("2d", description="No new story for this long is unhealthy.")
    watches: list[Watch] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
    alerts: Alerts = Field(default_factory=lambda: Alerts.model_validate({}))
    path: Path | None = Field(None, exclude=True, description="Where this config was read from.")

    @field_validator("health_silence")
    @classmethod
    def _interval_ok(cls, v: str) -> str:
        parse_interval(v)
        return v

    @field_validator("user_agent")
    @classmethod
    def _one_line(cls, v: str) -> str:
        if not v.strip() or _BREAKS.search(v):
            raise ValueError("must be one non-empty line (it is sent as an HTTP header)")
        return v

    @field_validator("database")
    @classmethod
    def _file_named(cls, v: Path) -> Path:
        if not str(v).strip() or v == Path("."):
            raise ValueError("give the SQLite file's path")
        return v

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        for kind, items in (("watches", self.watches), ("sites", self.sites)):
            seen: set[str] = set()
            for item in items:
                if item.name in seen:
                    raise ValueError(f"duplicate {kind} name {item.name!r}")
                seen.add(item.name)
        return self

    def site(self, name: str) -> Site:
        """The site called ``name``, or a ConfigError listing the known ones."""
        for site in self.sites:
            if site.name == name:
                return site
        known = ", ".join(s.name for s in self.sites) or "none"
        raise ConfigError(f"unknown site {name!r} (configured: {known})")


def find_config(path: str | Path | None = None) -> Path:
    """The config file to use: explicit path, else $NEWSMON_CONFIG, else the default."""
    return Path(path or os.environ.get(ENV_CONFIG) or DEFAULT_CONFIG)


def load_config(path: str | Path | None = None) -> Config:
    """Read, validate and resolve the configuration file."""
    cfg_path = find_config(path)
    try:
        raw = yaml.load(cfg_path.read_text(encoding="utf-8"), Loader=_StrictLoader)
    except FileNotFoundError:
        raise ConfigError(f"{cfg_path}: config file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{cfg_path}: not UTF-8 text (save the file as UTF-8)") from None
    except OSError as exc:
        raise ConfigError(f"{cfg_path}: cannot read the file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{cfg_path}: not valid YAML: {_yaml_problem(exc)}") from None
    return parse_config(raw if raw is not None else {}, cfg_path)


class _StrictLoader(yaml.SafeLoader):
    """``yaml.safe_load``, except that a key given twice in one mapping is an error: YAML
    forbids it, and PyYAML would silently keep the last value."""


def _unique_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[object, object]:
    seen: set[object] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if isinstance(key, str) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key if isinstance(key, str) else id(key_node))
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error on one line: where, and what (PyYAML's own text spans several)."""
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return where + " ".join(str(problem).split())


def parse_config(raw: object, path: Path | None = None) -> Config:
    """Validate a parsed YAML document; errors name the key path."""
    where = f"{path}: " if path else ""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}the top level must be a mapping of keys")
    try:
        cfg = Config.model_validate({**raw, "path": path})
    except ValidationError as exc:
        raise ConfigError(where + _describe(exc)) from None
    if path is not None:
        cfg = cfg.model_copy(update=_resolved_paths(cfg, path.parent))
    _check_semantics(cfg, where)
    return cfg


def _resolved_paths(cfg: Config, folder: Path) -> dict[str, Path]:
    """Relative paths in the file resolve against the file's own folder."""
    paths = {"database": cfg.database, "feed_file": cfg.feed_file}
    return {k: folder / v for k, v in paths.items() if v is not None and not v.is_absolute()}


def _describe(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = _key_path(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        lines.append(f"{key}: {msg}" if key else msg)
    return "; ".join(lines)


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _check_semantics(cfg: Config, where: str) -> None:
    """Checks that need more than one field: watch queries and their aliases. (Spider names
    are checked by ``crawler.crawling.registry.check_spiders``, which needs Scrapy.)"""
    for i, watch in enumerate(cfg.watches):
        keyed = [("query", watch.query)]
        keyed += [(f"aliases[{j}]", alias) for j, alias in enumerate(watch.aliases)]
        for key, form in keyed:
            try:
                validate_query(form)
            except QueryError as exc:
                problem = f"watches[{i}].{key}: watch {watch.name!r}: {exc}"
                raise ConfigError(where + problem) from None
