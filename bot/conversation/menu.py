"""The greeting with its main menu, help, /start and /cancel: where a conversation begins or starts over."""

from __future__ import annotations

import html

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation import feedback, lookup, procedures
from bot.conversation.actions import Action
from bot.conversation.context import Context, stale
from bot.conversation.state import ChatState
from bot.replies import messages as m
from bot.replies.events import Button, Event, Reply


def menu(ctx: Context, ev: Event) -> list[list[Button]]:
    def b(label: str, item: str) -> Button:
        return ctx.btn(ev, label, Action.MENU, item)

    return [
        [b(m.MENU_PROCEDURE, "proc"), b(m.MENU_BROWSE, "browse")],
        [b(m.MENU_CASE, "case"), b(m.MENU_FOLLOW, "follow")],
        [b(m.MENU_FEEDBACK, "feedback"), b(m.MENU_HELP, "help")],
    ]


def greeting(ctx: Context, ev: Event) -> Reply:
    return Reply(html.escape(m.GREETING.format(office=ctx.settings.office_name)), menu(ctx, ev))


def help_(ctx: Context, ev: Event) -> Reply:
    return Reply(m.HELP.format(hotline=ctx.hotline()))


async def on_start(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    """/start (and /menu) forgets whatever was under way; with a payload it opens that case's lookup."""
    await ctx.states.save(session, ev.chat_id, ChatState())
    if ev.args:
        return await lookup.on_start_payload(ctx, session, ev)
    return [greeting(ctx, ev)]


async def on_help(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    return [help_(ctx, ev)]


async def on_cancel(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    """/huy stops what is under way; the verified cases and the thread of the conversation stay."""
    state = await ctx.states.load(session, ev.chat_id)
    await ctx.states.save(session, ev.chat_id, state.idle())
    return [Reply(m.CANCELLED)]


async def on_menu(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    """A main-menu button: each answers with a new message, so the menu stays usable above it."""
    if not args:
        return stale()
    item = args[0]
    if item == "proc":
        return [Reply(m.ASK_PROCEDURE)]
    if item in {"case", "follow"}:
        return await lookup.case_prompt(ctx, session, ev, "", then="follow" if item == "follow" else None)
    if item == "feedback":
        return await feedback.start(ctx, session, ev)
    if item == "browse":
        return [procedures.fields(ctx, ev)]
    return [help_(ctx, ev)]
