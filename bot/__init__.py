"""tthc-bot core: conversation, services, settings and storage (no Telegram imports here)."""

__version__ = "0.1.0"
