"""The conversation core: one incoming event and the chat's state in, replies out.

Channel-agnostic: the Telegram adapter in handlers/ and the terminal chat both call
`Conversation.handle()`; nothing here knows about Telegram. The flows live in their own modules
(procedures, lookup, feedback, survey, erase, staff, menu); this one routes events to them by table.
"""

from __future__ import annotations

import datetime as dt
import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation import ask, erase, feedback, guide, lookup, menu, procedures, staff, survey
from bot.conversation.actions import Action, parse_action
from bot.conversation.context import ButtonHandler, CommandHandler, Context, stale
from bot.conversation.flood import FloodGuard
from bot.conversation.state import Awaiting, ChatState, ChatStates
from bot.conversation.turn import Answered, Turn
from bot.insights.gaps import GapLog
from bot.replies import cards
from bot.replies import messages as m
from bot.replies.events import Event, Reply
from bot.services import Services
from bot.storage.db import DB_ERRORS, session_scope
from knowledge.matcher import Understanding

log = logging.getLogger(__name__)
MAX_TEXT = 4096  # Telegram's own limit; anything longer is cut before any work

COMMANDS: dict[str, CommandHandler] = {
    "start": menu.on_start,
    "menu": menu.on_start,
    "help": menu.on_help,
    "huongdan": menu.on_help,
    "trogiup": menu.on_help,
    "cancel": menu.on_cancel,
    "huy": menu.on_cancel,
    "linhvuc": procedures.on_fields_command,
    "tracuu": lookup.on_lookup_command,
    "theodoi": lookup.on_follow_command,
    "hosocuatoi": lookup.on_my_cases,
    "huytheodoi": lookup.on_unfollow_command,
    "gopy": feedback.start,
    "danhgia": survey.on_command,
    "xoadulieu": erase.on_command,
}
STAFF_COMMANDS: dict[str, CommandHandler] = {"thongke": staff.on_stats, "khoangtrong": staff.on_gaps}

BUTTONS: dict[Action, ButtonHandler] = {
    Action.FACET: procedures.on_facet,
    Action.PICK: procedures.on_facet,
    Action.NONE_OF_THESE: procedures.on_none_of_these,
    Action.CHECKLIST: procedures.on_checklist,
    Action.CHECK_TOGGLE: procedures.on_check_toggle,
    Action.FIELDS: procedures.on_fields,
    Action.FIELD_PAGE: procedures.on_field_page,
    Action.MENU: menu.on_menu,
    Action.FOLLOW: lookup.on_follow,
    Action.UNFOLLOW: lookup.on_unfollow,
    Action.FEEDBACK_CATEGORY: feedback.on_category,
    Action.FEEDBACK_SKIP_CODE: feedback.on_skip_code,
    Action.SURVEY_START: survey.on_start,
    Action.SURVEY_SCORE: survey.on_score,
    Action.ERASE: erase.on_confirm,
    Action.SURVEY_SKIP_COMMENT: survey.on_skip_comment,
    Action.FULL: procedures.on_full,
    Action.SPECIAL: procedures.on_special,
    Action.GUIDE: guide.on_answer,
    Action.GUIDE_TOGGLE: guide.on_toggle,
    Action.NATIONAL: procedures.on_national,
}
# buttons about one procedure (its key first): pressing one makes it the chat's topic, with this facet
TOPIC_FACET: dict[Action, str | None] = {
    Action.FACET: None,  # the facet the button names
    Action.PICK: None,
    Action.FULL: None,
    Action.SPECIAL: "documents",
    Action.CHECKLIST: "documents",
    Action.CHECK_TOGGLE: "documents",
    Action.GUIDE: "documents",
    Action.GUIDE_TOGGLE: "documents",
}
WAITING_INTENT = {
    Awaiting.CODE: "case_status",
    Awaiting.VERIFY: "case_status",
    Awaiting.FEEDBACK_TEXT: "feedback",
    Awaiting.FEEDBACK_CODE: "feedback",
    Awaiting.SURVEY_COMMENT: "survey",
}

# free text while the bot waits for an answer goes to the flow that asked
WaitingHandler = Callable[[Context, AsyncSession, Event, ChatState], Awaitable[list[Reply]]]
WAITING: dict[Awaiting, WaitingHandler] = {
    Awaiting.CODE: lookup.on_code_text,
    Awaiting.VERIFY: lookup.on_verify_text,
    Awaiting.FEEDBACK_TEXT: feedback.on_text,
    Awaiting.FEEDBACK_CODE: feedback.on_code_text,
    Awaiting.SURVEY_COMMENT: survey.on_comment_text,
}


def _out_of_scope(ctx: Context, ev: Event) -> Reply:
    return Reply(m.OUT_OF_SCOPE.format(hotline=ctx.hotline()))


def _thanks(ctx: Context, ev: Event) -> Reply:
    return Reply(m.THANKS)


def _feedback_hint(ctx: Context, ev: Event) -> Reply:
    return Reply(m.FEEDBACK_HINT)


# free text understood as something other than a procedure question or a case lookup
INTENTS: dict[str, Callable[[Context, Event], Reply]] = {
    "greeting": menu.greeting,
    "thanks": _thanks,
    "help": menu.help_,
    "feedback": _feedback_hint,
    "out_of_scope": _out_of_scope,
}


class Conversation:
    """One per process: it holds the chat-state cache and the gap buffer, so every event of a chat must come
    to the same instance (handlers/workers.py routes by chat id)."""

    def __init__(
        self,
        services: Services,
        *,
        flood: FloodGuard | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.services = services
        self.flood = flood or FloodGuard()
        self.ctx = Context.build(services, clock)
        self.ctx.states.ttl = services.settings.chat_state_cache_seconds  # 0 in cluster mode: always the database

    @property
    def states(self) -> ChatStates:
        return self.ctx.states

    @property
    def gaps(self) -> GapLog:
        return self.ctx.gaps

    async def close(self) -> None:
        """Write what is still buffered (the gap log); call before the database engine is closed."""
        await self.gaps.flush()

    async def handle(self, event: Event) -> list[Reply]:
        """Never raises: an unexpected error becomes one polite line with a reference."""
        return (await self.respond(event)).replies

    async def respond(self, event: Event) -> Answered:
        """The replies to an event and what was decided for it (intent, procedure, facet): `handle()` with the
        decision, for the scripted conversations and tests. Never raises."""
        event = replace(event, text=event.text[:MAX_TEXT], args=event.args[:MAX_TEXT])
        # button presses have a budget of their own, more generous: a checklist of ten items is not a flood
        button = event.kind == "callback"
        verdict = self.flood.check(event.chat_id, button=button)
        if verdict != "ok":
            warning = Reply("", toast=m.FLOOD) if button else Reply(m.FLOOD)
            return Answered([warning] if verdict == "warn" else [], Turn("flood"))
        try:
            async with session_scope(self.services.engine) as session:
                answered = await self._dispatch(session, event)
            self.states.committed(session)
            return answered
        except DB_ERRORS:
            log.warning("database unavailable; answering %s event without it", event.kind)
            return Answered(self._without_database(event), Turn("unavailable"))
        except Exception as exc:  # noqa: BLE001 — the citizen gets a line, the log gets the trace
            ref = uuid.uuid4().hex[:8]
            # the exception's message may quote what the citizen typed: log its type and stack only
            log.error(
                "error handling %s event (ref %s): %s\n%s",
                event.kind,
                ref,
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            return Answered([Reply(m.ERROR.format(ref=ref))], Turn("error"))

    def _without_database(self, ev: Event) -> list[Reply]:
        """The knowledge base lives in memory, so procedure questions are still answered while the database
        is down; anything that needs stored state says politely that it is unavailable."""
        ctx = self.ctx
        if ev.kind == "text":
            u = self.services.matcher.understand(ev.text)
            proc = self.services.kb.get(u.matches[0].id) if u.intent == "procedure" and u.confident else None
            if proc is not None:
                return [procedures.answer(ctx, ev, proc, u.facet)]
            if u.intent == "out_of_scope":
                return [_out_of_scope(ctx, ev)]
        if ev.kind == "callback":
            parts = ctx.pressed(ev) or []
            proc = ctx.by_key.get(parts[1]) if len(parts) == 3 else None
            if proc and parse_action(parts[0]) in {Action.FACET, Action.PICK} and parts[2] in cards.FACETS:
                return [procedures.answer(ctx, ev, proc, parts[2])]
        return [Reply(m.DB_DOWN)]

    async def _dispatch(self, session: AsyncSession, ev: Event) -> Answered:
        if ev.kind == "command":
            return Answered(await self._command(session, ev), Turn("command"))
        if ev.kind == "callback":
            return await self._button(session, ev)
        if ev.kind == "text":
            return await self._text(session, ev)
        return Answered([Reply(m.UNSUPPORTED)], Turn("unsupported"))

    async def _command(self, session: AsyncSession, ev: Event) -> list[Reply]:
        cmd = (ev.command or "").lower()
        handler = COMMANDS.get(cmd)
        if handler is None and cmd in STAFF_COMMANDS and staff.allowed(self.ctx, ev):
            handler = STAFF_COMMANDS[cmd]
        if handler is None:
            return [Reply(m.UNKNOWN_COMMAND)]
        return await handler(self.ctx, session, ev)

    async def _button(self, session: AsyncSession, ev: Event) -> Answered:
        """Only a genuine button of this chat is acted on; each handler checks its own arguments. A button about a
        procedure makes it the chat's topic: a pick-list answered by a press is followed up like a question."""
        parts = self.ctx.pressed(ev)
        action = parse_action(parts[0]) if parts else None
        if parts is None or action is None:
            return Answered(stale(), Turn("button"))
        replies = await BUTTONS[action](self.ctx, session, ev, parts[1:])
        proc = self.ctx.procedure(parts[1:]) if action in TOPIC_FACET else None
        if proc is None or not any(r.text for r in replies):
            return Answered(replies, Turn("button"))
        facet = TOPIC_FACET[action] or parts[2]
        state = await self.states.load(session, ev.chat_id)
        await ask.remember(self.ctx, session, ev, state, proc, facet)
        return Answered(replies, ask.turn_for(proc, facet))

    async def _text(self, session: AsyncSession, ev: Event) -> Answered:
        state = await self.states.load(session, ev.chat_id)
        waiting, u = state.awaiting, None
        if waiting in lookup.WAITS:
            # a code or digits are awaited; a procedure question (or a follow-up of the last answer) typed instead
            # leaves the lookup, rather than being refused or counted as a failed verification
            u = self.services.matcher.understand(ev.text)
            if lookup.leaves_lookup(u, ev.text, waiting) or (
                lookup.not_an_answer(ev.text, waiting) and ask.follows_up(self.ctx, state, ev.text, u)
            ):
                await lookup.leave(self.ctx, session, ev, state)
                state, waiting = state.idle(), None
        if waiting is not None:
            replies = await WAITING[waiting](self.ctx, session, ev, state)
            return Answered(replies, Turn(WAITING_INTENT[waiting]))
        return await self._question(session, ev, state, u or self.services.matcher.understand(ev.text))

    async def _question(self, session: AsyncSession, ev: Event, state: ChatState, u: Understanding) -> Answered:
        """Free text nobody waited for: a procedure question in the thread of the conversation, else routed by
        intent (and recorded for the gap report when unanswered); the thread goes on after it."""
        answered = await ask.question(self.ctx, session, ev, state, u)
        if answered is not None:
            return answered
        self.gaps.add(u, source="bot")
        turn = Turn(u.intent, None, None, u.facet, u.confident)
        if u.intent == "case_status":
            return Answered(await lookup.case_prompt(self.ctx, session, ev, u.case_code or ""), turn)
        simple = INTENTS.get(u.intent)
        if simple is not None:
            return Answered([simple(self.ctx, ev)], turn)
        return Answered([procedures.question(self.ctx, ev, u)], turn)
