"""The channel registry: config key -> channel class (urlwatch reporters, datasette publish).

Adding a channel is a module with a class that follows :class:`~crawler.alerts.base.Channel`
and one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crawler.alerts.base import Channel, UnknownChannelError
from crawler.alerts.email import EmailChannel
from crawler.alerts.slack import SlackChannel
from crawler.config import Config

CHANNEL_TYPES: dict[str, Callable[[Any, str], Channel]] = {
    "email": EmailChannel,
    "slack": SlackChannel,
}


def configured(config: Config) -> dict[str, Channel]:
    """Every configured channel, ready to send, by its config key."""
    return {name: CHANNEL_TYPES[name](cfg, name) for name, cfg in config.alerts.channels.items()}


def get_channel(config: Config, name: str) -> Channel:
    """The configured channel called ``name``; UnknownChannelError names the known ones."""
    found = config.alerts.channels.get(name)
    if found is None or name not in CHANNEL_TYPES:
        known = ", ".join(config.alerts.channels) or "none configured"
        kind = "not configured" if name in CHANNEL_TYPES else "unknown channel"
        raise UnknownChannelError(f"{name!r}: {kind} (configured channels: {known})")
    return CHANNEL_TYPES[name](found, name)
