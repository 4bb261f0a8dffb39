"""Channel-agnostic events in and replies out: the only vocabulary between the core and a channel."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Event:
    chat_id: int
    kind: str = "text"  # text | command | callback | unsupported
    text: str = ""
    command: str | None = None
    args: str = ""
    callback: str | None = None
    user_id: int | None = None
    is_group: bool = False


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: list[list[Button]] = field(default_factory=list)
    edit: bool = False  # replace the message whose button was pressed
    toast: str | None = None  # short answer to a button press
