"""newsmon: scheduled news monitoring. The application core (config, storage, alerts, CLI)."""

__version__ = "0.1.0"
