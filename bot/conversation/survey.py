"""The satisfaction survey: six criteria scored 1 to 5, one message edited in place, then an optional comment."""

from __future__ import annotations

import html
from dataclasses import replace

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation import lookup
from bot.conversation.actions import Action
from bot.conversation.context import Context, stale
from bot.conversation.state import Awaiting, ChatState, Survey
from bot.feedback import survey
from bot.replies import messages as m
from bot.replies.events import Event, Reply
from bot.storage.models import Case


def question(ctx: Context, ev: Event, i: int, about: str, *, edit: bool) -> Reply:
    text = m.SURVEY_INTRO.format(about=about, i=i + 1, criterion=survey.CRITERIA[i][1])
    return Reply(text, [[ctx.btn(ev, str(v), Action.SURVEY_SCORE, i, v) for v in range(1, 6)]], edit=edit)


async def start(ctx: Context, session: AsyncSession, ev: Event, case_id: int | None) -> Reply:
    """From /danhgia (about no case) or the button of a notification (about that case, if it still exists)."""
    case = await session.get(Case, case_id) if case_id else None
    state = await ctx.states.load(session, ev.chat_id)  # the verified cases and the thread stay
    await ctx.states.save(session, ev.chat_id, replace(state.idle(), survey=Survey(case.id if case else None)))
    about = f" cho hồ sơ {html.escape(case.display_code)}" if case else ""
    return question(ctx, ev, 0, about, edit=False)


async def score(ctx: Context, session: AsyncSession, ev: Event, i: int, value: int) -> Reply:
    """Scores come in order: a press on an earlier question's buttons (or after the survey) is stale."""
    state = await ctx.states.load(session, ev.chat_id)
    sv = state.survey
    if sv is None or i != len(sv.scores) or i >= len(survey.KEYS):
        return Reply("", toast=m.STALE_BUTTON)
    sv.scores[survey.KEYS[i]] = value
    if i + 1 < len(survey.KEYS):
        await ctx.states.save(session, ev.chat_id, state)
        return question(ctx, ev, i + 1, "", edit=True)
    state.awaiting = Awaiting.SURVEY_COMMENT
    await ctx.states.save(session, ev.chat_id, state)
    return Reply(m.SURVEY_ASK_COMMENT, [[ctx.btn(ev, m.SKIP, Action.SURVEY_SKIP_COMMENT)]], edit=True)


async def finish(ctx: Context, session: AsyncSession, ev: Event, state: ChatState, comment: str | None) -> Reply:
    sv = state.survey or Survey()
    case = await session.get(Case, sv.case) if sv.case else None
    await survey.save(session, scores=sv.scores, comment=(comment or "")[:1000] or None, case=case)
    await ctx.states.save(session, ev.chat_id, state.idle())
    return Reply(m.SURVEY_DONE)


async def on_command(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    return [await start(ctx, session, ev, None)]


async def on_comment_text(ctx: Context, session: AsyncSession, ev: Event, state: ChatState) -> list[Reply]:
    return [await finish(ctx, session, ev, state, ev.text)]


async def on_start(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    if not args or not args[0].isdigit():
        return stale()
    state = await ctx.states.load(session, ev.chat_id)
    if not await lookup.linked(session, ev.chat_id, int(args[0]), state):
        return stale()  # a survey naming a case this chat never followed nor verified: its code is not shown
    return [await start(ctx, session, ev, int(args[0]))]


async def on_score(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    if len(args) != 2 or not args[0].isdigit() or len(args[1]) != 1 or args[1] not in "12345":
        return stale()
    return [await score(ctx, session, ev, int(args[0]), int(args[1]))]


async def on_skip_comment(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    state = await ctx.states.load(session, ev.chat_id)
    if state.awaiting != Awaiting.SURVEY_COMMENT:
        return stale()
    return [await finish(ctx, session, ev, state, None)]
