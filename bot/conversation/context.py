"""What every flow of the conversation shares: the services, the chat states, the gap log, signed buttons."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation.actions import Action
from bot.conversation.state import ChatStates
from bot.insights.gaps import GapLog
from bot.replies import messages as m
from bot.replies.buttons import pack, proc_key, unpack
from bot.replies.events import Button, Event, Reply
from bot.services import Services
from bot.settings import Settings
from knowledge.schema import Procedure


@dataclass
class Context:
    services: Services
    states: ChatStates
    gaps: GapLog
    by_key: dict[str, Procedure]  # procedures by the short key their buttons carry
    fields: list[str]  # the fields (lĩnh vực), in the order their buttons number them

    @classmethod
    def build(cls, services: Services) -> Context:
        return cls(
            services=services,
            states=ChatStates(),
            gaps=GapLog(services.engine),
            by_key={proc_key(p.id): p for p in services.kb.procedures},
            fields=services.kb.fields(),
        )

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def hotline(self) -> str:
        """The hotline, escaped: every message quoting it is HTML."""
        return html.escape(self.settings.hotline)

    def btn(self, ev: Event, label: str, action: Action, *args: object) -> Button:
        """The one place button data is signed: bound to this chat, so a press from elsewhere does nothing."""
        return Button(label, pack(ev.chat_id, self.services.secret, action, *args))

    def pressed(self, ev: Event) -> list[str] | None:
        """The parts of the button pressed, or None unless it is a genuine button of this chat."""
        return unpack(ev.callback or "", ev.chat_id, self.services.secret)

    def procedure(self, args: list[str]) -> Procedure | None:
        """The procedure a button names in its first argument, if it still exists."""
        return self.by_key.get(args[0]) if args else None


def stale() -> list[Reply]:
    """The answer to a button that is forged, from another chat, malformed or no longer meaningful."""
    return [Reply("", toast=m.STALE_BUTTON)]


# the signatures of the dispatch tables in core.py: a command, a button press (with the button's arguments)
CommandHandler = Callable[[Context, AsyncSession, Event], Awaitable[list[Reply]]]
ButtonHandler = Callable[[Context, AsyncSession, Event, list[str]], Awaitable[list[Reply]]]
