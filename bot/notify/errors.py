"""What a channel's sender raises when a message does not go out, so the core can decide without knowing the channel.

The Telegram channel maps PTB's errors to these in one place (handlers/sender.py `core_error`); the dispatcher and
`bot.notify.retry` read only these. Each subclass names what to do, not what went wrong on the wire.
"""

from __future__ import annotations


class SendError(Exception):
    """A message could not be delivered; the subclass says what to do."""


class RetryLater(SendError):
    """The channel asked the bot to send nothing for `seconds` (Telegram's 429 with retry_after): a pause for the
    whole bot, not a fault of this message."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class Blocked(SendError):
    """The user blocked the bot or the chat no longer exists: stop following, drop the message."""


class Transient(SendError):
    """Network error, timeout or server error: try again later."""


class Rejected(SendError):
    """The channel refused this message for good (bad request): retrying would fail the same way."""
