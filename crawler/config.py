"""Configuration: one YAML file validated into typed models.

Where the file is found: ``newsmon -c PATH``, else ``$NEWSMON_CONFIG``, else
``config/newsmon.yaml``. Relative paths inside it resolve against the file's own folder.
Every problem is reported as a :class:`ConfigError` naming the key path, before anything runs.
"""

from __future__ import annotations

import importlib.util
import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crawler.cron import cron_trigger
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
    channels: list[str] | None = Field(
        None, description="The alert channels this watch alerts on (default: every channel)."
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


class _Channel(_Model):
    """What every alert channel has: a name, how it sends, and an optional digest schedule."""

    name: str | None = Field(
        None,
        description="Unique name, used by watches[].channels, alerts.operator and the CLI; "
        "required under alerts.channels (alerts.email and alerts.slack are named email, slack).",
    )
    mode: Literal["digest", "instant"] = Field(
        "instant", description="instant: one message per story; digest: one per delivery pass."
    )
    digest: str | None = Field(
        None,
        description="Crontab line: hold alerts and send them as one digest at these times "
        "(e.g. '0 8 * * 1-5'); health notices are not held.",
    )
    timezone: str | None = Field(
        None, description="Time zone of the digest schedule, e.g. Europe/Berlin (default: host)."
    )

    @field_validator("name")
    @classmethod
    def _name_ok(cls, v: str | None) -> str | None:
        if v is not None and not _NAME.match(v):
            raise ValueError(f"bad name {v!r} (letters, digits, '-', '_', '.')")
        return v

    @field_validator("timezone")
    @classmethod
    def _timezone_ok(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ZoneInfo(v)
            except (ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {v!r} (use e.g. Europe/Berlin, UTC)") from None
        return v

    @field_validator("digest")
    @classmethod
    def _cron_ok(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                cron_trigger(v)
            except ValueError as exc:
                raise ValueError(f"bad cron expression {v!r}: {exc}") from None
        return v

    @model_validator(mode="after")
    def _schedule_ok(self) -> _Channel:
        if self.digest is None and self.timezone is not None:
            raise ValueError("'timezone' applies to a 'digest' schedule; give one")
        if self.digest is not None and "mode" in self.model_fields_set and self.mode == "instant":
            raise ValueError("a 'digest' schedule needs mode: digest (or no mode)")
        return self

    @property
    def is_digest(self) -> bool:
        """One message for many alerts (per delivery pass, or at the digest times)."""
        return self.mode == "digest" or self.digest is not None


class EmailChannel(_Channel):
    """SMTP delivery."""

    type: Literal["email"] = "email"
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


class SlackChannel(_Channel):
    """Slack incoming webhook delivery."""

    type: Literal["slack"] = "slack"
    webhook_url_env: str | None = Field(None, description="Env variable with the webhook URL.")
    webhook_url: str | None = Field(None, description="Webhook URL inline (local testing only).")
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


class AppriseChannel(_Channel):
    """Any service Apprise knows (Teams, Telegram, Discord, ntfy, Matrix, JSON webhooks ...),
    by its Apprise URL. Needs the optional extra: ``pip install 'newsmon[apprise]'``."""

    type: Literal["apprise"] = "apprise"
    url_env: str | None = Field(None, description="Env variable with the Apprise URL.")
    url: str | None = Field(None, description="Apprise URL inline (local testing only).")

    @field_validator("url")
    @classmethod
    def _url_ok(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://\S", v):
            raise ValueError("not an Apprise URL (scheme://...)")  # may hold a secret: not quoted
        return v

    @model_validator(mode="after")
    def _has_url(self) -> AppriseChannel:
        if not (self.url_env or self.url):
            raise ValueError("give 'url_env' (or 'url' for local testing)")
        return self

    def apprise_url(self) -> str | None:
        """The Apprise URL, read from the environment when configured that way."""
        if self.url_env:
            return os.environ.get(self.url_env)
        return self.url


ChannelConfig = EmailChannel | SlackChannel | AppriseChannel
CHANNEL_TYPES = ("email", "slack", "apprise")


class Alerts(_Model):
    """Alert channels, where notices go, and the delivery policy."""

    email: EmailChannel | None = Field(None, description="The channel named 'email'.")
    slack: SlackChannel | None = Field(None, description="The channel named 'slack'.")
    channels: list[Annotated[ChannelConfig, Field(discriminator="type")]] = Field(
        default_factory=list, description="Named channels of any type (email, slack, apprise)."
    )
    operator: list[str] | None = Field(
        None, description="Channels that get site health notices (default: every channel)."
    )
    max_attempts: int = Field(8, ge=1, description="Attempts before an alert is marked failed.")
    backoff: str = Field("1m", description="First retry delay; doubles on every attempt.")

    @field_validator("backoff")
    @classmethod
    def _interval_ok(cls, v: str) -> str:
        parse_interval(v)
        return v

    @property
    def named(self) -> dict[str, ChannelConfig]:
        """Every configured channel by its name, in the order of the file."""
        found: dict[str, ChannelConfig] = {}
        if self.email is not None:
            found["email"] = self.email
        if self.slack is not None:
            found["slack"] = self.slack
        for channel in self.channels:
            found.setdefault(channel.name or "", channel)
        return found

    def operator_channels(self) -> list[str]:
        """Where health (and other operator) notices go: ``operator``, else every channel."""
        return list(self.named) if self.operator is None else list(self.operator)

    def _check(self) -> None:
        """Names present and unique, references known; errors name the key path."""
        if self.email is not None and self.email.name not in (None, "email"):
            raise ValueError(
                "alerts.email.name: this channel is named 'email' (rename it by "
                "moving it under alerts.channels)"
            )
        if self.slack is not None and self.slack.name not in (None, "slack"):
            raise ValueError(
                "alerts.slack.name: this channel is named 'slack' (rename it by "
                "moving it under alerts.channels)"
            )
        seen = {k for k in ("email", "slack") if getattr(self, k) is not None}
        for i, channel in enumerate(self.channels):
            if channel.name is None:
                raise ValueError(f"alerts.channels[{i}]: give the channel a name")
            if channel.name in seen:
                raise ValueError(
                    f"alerts.channels[{i}].name: duplicate channel name {channel.name!r}"
                )
            seen.add(channel.name)
        _known("alerts.operator", self.operator, seen)


def _known(where: str, names: list[str] | None, known: set[str]) -> None:
    """Every name in ``names`` is a configured channel, else an error at ``where[i]``."""
    for i, name in enumerate(names or []):
        if name not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ValueError(f"{where}[{i}]: unknown channel {name!r} (configured: {listed})")


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

    @model_validator(mode="after")
    def _channels_known(self) -> Config:
        self.alerts._check()
        known = set(self.alerts.named)
        for i, watch in enumerate(self.watches):
            _known(f"watches[{i}].channels", watch.channels, known)
        return self

    def routes(self) -> dict[str, tuple[str, ...]]:
        """Each watch's alert channels: its ``channels``, else every configured channel."""
        every = tuple(self.alerts.named)
        return {w.name: every if w.channels is None else tuple(w.channels) for w in self.watches}

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
        elif err["type"] in ("union_tag_not_found", "union_tag_invalid"):
            given = (err.get("ctx") or {}).get("tag")
            msg = f"unknown channel type {given!r}" if given else "give the channel's type"
            msg += f" ({', '.join(CHANNEL_TYPES)})"
        lines.append(f"{key}: {msg}" if key else msg)
    return "; ".join(lines)


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if _is_union_tag(loc, i):
            continue  # pydantic names the channel type in the path; the file does not
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _is_union_tag(loc: tuple[int | str, ...], i: int) -> bool:
    return (
        i >= 2
        and loc[i - 2] == "channels"
        and isinstance(loc[i - 1], int)
        and loc[i] in (CHANNEL_TYPES)
    )


def _check_semantics(cfg: Config, where: str) -> None:
    """Checks that need more than the file: watch queries and their aliases, optional
    libraries. (Spider names are checked by ``crawler.crawling.registry.check_spiders``, which
    needs Scrapy.)"""
    for i, watch in enumerate(cfg.watches):
        keyed = [("query", watch.query)]
        keyed += [(f"aliases[{j}]", alias) for j, alias in enumerate(watch.aliases)]
        for key, form in keyed:
            try:
                validate_query(form)
            except QueryError as exc:
                problem = f"watches[{i}].{key}: watch {watch.name!r}: {exc}"
                raise ConfigError(where + problem) from None
    for i, channel in enumerate(cfg.alerts.channels):
        if channel.type == "apprise" and not apprise_installed():
            raise ConfigError(
                f"{where}alerts.channels[{i}]: channel {channel.name!r} of type apprise needs "
                "the Apprise library: pip install 'newsmon[apprise]'"
            )


def apprise_installed() -> bool:
    """Whether the optional Apprise library can be imported (without importing it)."""
    return importlib.util.find_spec("apprise") is not None
