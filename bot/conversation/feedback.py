"""Feedback (phản ánh, kiến nghị): a category, the text, optionally a case code; or a tracking number looked up."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import replace

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation.actions import Action
from bot.conversation.context import Context, stale
from bot.conversation.state import Awaiting, ChatState
from bot.feedback import tickets
from bot.replies import messages as m
from bot.replies.dates import vn_date
from bot.replies.events import Event, Reply
from bot.storage.models import VerificationAttempt, utcnow
from knowledge.codes import find_code


async def start(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    """/gopy alone (or the menu) asks for a category; /gopy with a tracking number tells where that feedback is."""
    if ev.kind == "command" and ev.args.strip():
        return [await _status(ctx, session, ev, ev.args)]
    rows = [[ctx.btn(ev, label, Action.FEEDBACK_CATEGORY, key)] for key, label in tickets.CATEGORIES.items()]
    return [Reply(m.FEEDBACK_PICK, rows)]


LOOKUP_FAILURES = 5  # failed tracking-number lookups a chat may make per LOOKUP_WINDOW, as for case codes
LOOKUP_WINDOW = dt.timedelta(minutes=15)


async def _status(ctx: Context, session: AsyncSession, ev: Event, tracking_no: str) -> Reply:
    """Only the chat that sent a feedback sees its state and reply; failed lookups are counted (in the attempts
    table, scope "feedback") and past LOOKUP_FAILURES a chat is told "not found" without a lookup."""
    key, since = f"chat:{ev.chat_id}", utcnow() - LOOKUP_WINDOW
    failures = (
        await session.exec(
            select(func.count()).where(
                col(VerificationAttempt.scope) == "feedback",
                col(VerificationAttempt.key) == key,
                col(VerificationAttempt.success).is_(False),
                col(VerificationAttempt.at) >= since,
            )
        )
    ).one()
    fb = await tickets.find(session, tracking_no) if failures < LOOKUP_FAILURES else None
    if fb is None or fb.chat_id != ev.chat_id:
        session.add(VerificationAttempt(scope="feedback", key=key, success=False))
        return Reply(m.FEEDBACK_NOT_FOUND)
    text = m.FEEDBACK_STATE.format(
        no=html.escape(fb.tracking_no),
        category=tickets.CATEGORIES[fb.category],
        date=vn_date(fb.created_at.astimezone(ctx.settings.tz).date()),
        state=tickets.STATES.get(fb.status, fb.status),
    )
    if fb.reply:
        text += m.FEEDBACK_REPLY.format(reply=html.escape(fb.reply))
    return Reply(text)


async def finish(ctx: Context, session: AsyncSession, ev: Event, state: ChatState, code: str | None) -> Reply:
    fb = await tickets.create(
        session,
        chat_id=ev.chat_id,
        category=state.category or "khac",
        text=state.feedback_text or "",
        case_code=code,
    )
    await ctx.states.save(session, ev.chat_id, state.idle())
    return Reply(m.FEEDBACK_DONE.format(no=fb.tracking_no))


# --- answers typed while waiting --------------------------------------------------------


async def on_text(ctx: Context, session: AsyncSession, ev: Event, state: ChatState) -> list[Reply]:
    """The feedback itself; then the case it is about is asked for, which may be skipped."""
    state.awaiting, state.feedback_text = Awaiting.FEEDBACK_CODE, ev.text[: tickets.MAX_TEXT]
    await ctx.states.save(session, ev.chat_id, state)
    return [Reply(m.FEEDBACK_ASK_CODE, [[ctx.btn(ev, m.SKIP, Action.FEEDBACK_SKIP_CODE)]])]


async def on_code_text(ctx: Context, session: AsyncSession, ev: Event, state: ChatState) -> list[Reply]:
    """Whatever is typed ends the feedback: a case code in it is kept, anything else is not asked again."""
    return [await finish(ctx, session, ev, state, find_code(ev.text))]


# --- buttons ----------------------------------------------------------------------------


async def on_category(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    if not args or args[0] not in tickets.CATEGORIES:
        return stale()
    state = await ctx.states.load(session, ev.chat_id)  # the verified cases and the thread stay
    asked = replace(state.idle(), awaiting=Awaiting.FEEDBACK_TEXT, category=args[0])
    await ctx.states.save(session, ev.chat_id, asked)
    return [Reply(m.FEEDBACK_ASK_TEXT.format(category=tickets.CATEGORIES[args[0]]), edit=True)]


async def on_skip_code(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    state = await ctx.states.load(session, ev.chat_id)
    if state.awaiting != Awaiting.FEEDBACK_CODE:
        return stale()
    return [await finish(ctx, session, ev, state, None)]
