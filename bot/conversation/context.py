"""What every flow of the conversation shares: the services, the chat states, the gap log, signed buttons."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation.actions import Action
from bot.conversation.state import ChatStates
from bot.conversation.thread import Names
from bot.insights.gaps import GapLog
from bot.replies import cards
from bot.replies import messages as m
from bot.replies.buttons import pack, proc_key, unpack
from bot.replies.events import Button, Event, Reply
from bot.replies.excerpts import Excerpts
from bot.replies.result_date import Calendar
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
    names: Names  # the words of every procedure's names: does a message name another procedure?
    excerpts: Excerpts  # every entry's passages: the direct answer to a specific question
    calendar: Calendar  # working days, for result dates
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))

    @classmethod
    def build(cls, services: Services, clock: Callable[[], dt.datetime] | None = None) -> Context:
        procs = services.kb.procedures
        return cls(
            services=services,
            states=ChatStates(),
            gaps=GapLog(services.engine),
            by_key={proc_key(p.id): p for p in procs},
            fields=services.kb.fields(),
            names=Names(procs, services.matcher),
            excerpts=Excerpts(procs, cards._fee_line),  # the card's own fee wording
            calendar=Calendar(services.settings.holidays_file),
            clock=clock or (lambda: dt.datetime.now(dt.UTC)),
        )

    def now(self) -> dt.datetime:
        """The current time in the office's time zone (Asia/Ho_Chi_Minh unless set otherwise)."""
        return self.clock().astimezone(self.settings.tz)

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
