"""The channel registry: channel type -> channel class (urlwatch reporters, datasette publish).

Adding a channel type is a module with a class that follows
:class:`~crawler.alerts.base.Channel`, one line here and one config model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crawler.alerts.apprise import AppriseChannel
from crawler.alerts.base import Channel, UnknownChannelError
from crawler.alerts.email import EmailChannel
from crawler.alerts.slack import SlackChannel
from crawler.config import Config

CHANNEL_TYPES: dict[str, Callable[[Any, str], Channel]] = {
    "email": EmailChannel,
    "slack": SlackChannel,
    "apprise": AppriseChannel,
}


def configured(config: Config) -> dict[str, Channel]:
    """Every configured channel, ready to send, by its name."""
    return {name: CHANNEL_TYPES[cfg.type](cfg, name) for name, cfg in config.alerts.named.items()}


def get_channel(config: Config, name: str) -> Channel:
    """The configured channel called ``name``; UnknownChannelError names the known ones."""
    found = config.alerts.named.get(name)
    if found is None:
        known = ", ".join(config.alerts.named) or "none"
        raise UnknownChannelError(
            f"unknown channel {name!r}: not configured (configured channels: {known})"
        )
    return CHANNEL_TYPES[found.type](found, name)
