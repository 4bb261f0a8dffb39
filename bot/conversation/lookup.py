"""Case lookup: the receipt code, the digits that prove the case is the citizen's, following cases."""

from __future__ import annotations

import html
from dataclasses import replace

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases import qr, verification
from bot.cases.rules import STATUSES, get_case
from bot.conversation.actions import Action
from bot.conversation.context import Context, stale
from bot.conversation.state import Awaiting, ChatState, Then
from bot.notify import subscriptions
from bot.replies import messages as m
from bot.replies.case_view import case_card, procedure_name
from bot.replies.dates import vn_date
from bot.replies.events import Event, Reply
from bot.storage.models import Case, Subscription
from knowledge.codes import find_code
from knowledge.matcher import Understanding

WAITS = (Awaiting.CODE, Awaiting.VERIFY)


def leaves_lookup(u: Understanding, text: str, waiting: Awaiting | None) -> bool:
    """Whether a message typed while a code or the digits are awaited is something else: a question, a
    greeting. Such a message leaves the lookup rather than being refused or counted as a failed attempt."""
    if find_code(text) or (waiting == Awaiting.VERIFY and any(ch.isdigit() for ch in text)):
        return False
    return (u.intent == "procedure" and u.confident) or u.intent in {"greeting", "help", "feedback"}


def not_an_answer(text: str, waiting: Awaiting | None) -> bool:
    """No code in it, and no digits when digits are awaited: it cannot be what the lookup asked for."""
    return not find_code(text) and not (waiting == Awaiting.VERIFY and any(ch.isdigit() for ch in text))


async def leave(ctx: Context, session: AsyncSession, ev: Event, state: ChatState) -> None:
    await ctx.states.save(session, ev.chat_id, state.idle())


async def case_prompt(
    ctx: Context, session: AsyncSession, ev: Event, text: str, then: Then | None = None
) -> list[Reply]:
    """Ask for the code until one is given, then for the digits, unless this chat or code is blocked."""
    code = find_code(text) if text else None
    if not code:
        state = await ctx.states.load(session, ev.chat_id)
        asked = replace(state.idle(), awaiting=Awaiting.CODE, then=then or state.then)
        await ctx.states.save(session, ev.chat_id, asked)
        return [Reply(m.BAD_CODE if text.strip() else m.ASK_CODE)]
    found = await verification.block(session, chat_id=ev.chat_id, code=code, verify_by=ctx.settings.verify_by)
    if found:
        return [blocked(ctx, found)]
    state = await ctx.states.load(session, ev.chat_id)
    asked = replace(state.idle(), awaiting=Awaiting.VERIFY, code=code, then=then or state.then)
    await ctx.states.save(session, ev.chat_id, asked)
    return [Reply(m.ASK_VERIFY[ctx.settings.verify_by])]


def blocked(ctx: Context, found: verification.Block) -> Reply:
    if found.until is None:  # locked until staff unlock it: the slip's QR code still opens the case
        return Reply(m.CODE_LOCKED.format(hotline=ctx.hotline()))
    local = found.until.astimezone(ctx.settings.tz)
    return Reply(m.TOO_MANY_ATTEMPTS.format(time=f"{local:%H:%M} ngày {vn_date(local.date())}"))


async def verify(ctx: Context, session: AsyncSession, ev: Event, state: ChatState) -> list[Reply]:
    """Check the digits; a verified case is remembered (the last ten) so the chat may follow it."""
    code = state.code or ""
    found = await verification.block(session, chat_id=ev.chat_id, code=code, verify_by=ctx.settings.verify_by)
    if found:
        await ctx.states.save(session, ev.chat_id, state.idle())
        return [blocked(ctx, found)]
    case = await verification.verify(
        session, chat_id=ev.chat_id, code=code, answer=ev.text, verify_by=ctx.settings.verify_by
    )
    if case is None or case.id is None:
        await ctx.states.save(session, ev.chat_id, state.idle())
        return [Reply(m.VERIFY_FAILED.format(hotline=ctx.hotline()))]
    return await opened(ctx, session, ev, state, case)


async def opened(ctx: Context, session: AsyncSession, ev: Event, state: ChatState, case: Case) -> list[Reply]:
    """The case proved to be the chat's (by the digits, or the slip's signed QR code): shown, remembered (the last
    ten) so the chat may follow it."""
    assert case.id is not None  # a stored case
    verified = list(state.verified)
    verified = [*verified[-9:], case.id] if case.id not in verified else verified
    await ctx.states.save(session, ev.chat_id, replace(state.idle(), verified=verified))
    card = Reply(await case_card(session, case, ctx.services.kb, ctx.settings))
    if state.then == "follow":
        return [card, *await follow(ctx, session, ev, case.id)]
    return [Reply(card.text, [[ctx.btn(ev, m.FOLLOW_BUTTON, Action.FOLLOW, case.id)]])]


async def follow(ctx: Context, session: AsyncSession, ev: Event, case_id: int) -> list[Reply]:
    """Only a case this chat verified may be followed: its notifications quote the case."""
    state = await ctx.states.load(session, ev.chat_id)
    case = await session.get(Case, case_id)
    if case is None or case_id not in state.verified:
        return [Reply(m.NOT_VERIFIED)]
    created = await subscriptions.follow(
        session, chat_id=ev.chat_id, case=case, kb=ctx.services.kb, settings=ctx.settings
    )
    return [Reply("", toast=m.FOLLOWED_TOAST if created else m.ALREADY_FOLLOWED)]


async def linked(session: AsyncSession, chat_id: int, case_id: int, state: ChatState, *, active: bool = False) -> bool:
    """Whether this chat may act on a case a button names: it verified the case here, or follows it (with `active`
    False, or followed it: the survey of a returned case is sent to its followers). A signed button is not enough: the
    signing secret may leak (the development one is public) and buttons may be replayed."""
    if not active and case_id in state.verified:
        return True
    stmt = select(Subscription.id).where(col(Subscription.chat_id) == chat_id, col(Subscription.case_id) == case_id)
    if active:
        stmt = stmt.where(col(Subscription.active).is_(True))
    return (await session.exec(stmt)).first() is not None


# --- answers typed while waiting --------------------------------------------------------


async def on_code_text(ctx: Context, session: AsyncSession, ev: Event, state: ChatState) -> list[Reply]:
    return await case_prompt(ctx, session, ev, ev.text, then=state.then)


async def on_verify_text(ctx: Context, session: AsyncSession, ev: Event, state: ChatState) -> list[Reply]:
    if any(ch.isdigit() for ch in ev.text):
        return await verify(ctx, session, ev, state)
    return [Reply(m.ASK_VERIFY[ctx.settings.verify_by])]  # no digits: not an attempt, not counted


# --- commands ---------------------------------------------------------------------------


async def on_start_payload(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    """/start with a payload: the signed QR code on a receipt opens that case without the digits (strangers' failed
    guesses cannot lock its owner out); an old or wrongly signed payload opens the lookup of its code."""
    payload = qr.read_payload(ev.args, ctx.services.secret)
    case = await get_case(session, payload.code) if payload.signed and payload.code else None
    if case is not None:
        return await opened(ctx, session, ev, await ctx.states.load(session, ev.chat_id), case)
    return await case_prompt(ctx, session, ev, payload.code or "")


async def on_lookup_command(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    return await case_prompt(ctx, session, ev, ev.args)


async def on_follow_command(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    return await case_prompt(ctx, session, ev, ev.args, then="follow")


async def on_my_cases(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    cases = await subscriptions.followed(session, ev.chat_id)
    if not cases:
        return [Reply(m.NO_FOLLOWS)]
    lines = [m.MY_CASES] + [
        f"• {html.escape(c.display_code)}: {html.escape(procedure_name(c, ctx.services.kb))} "
        f"— <b>{STATUSES[c.status]}</b>"
        for c in cases
    ]
    return [Reply("\n".join(lines))]


async def on_unfollow_command(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    cases = await subscriptions.followed(session, ev.chat_id)
    if not cases:
        return [Reply(m.NO_FOLLOWS)]
    rows = [[ctx.btn(ev, c.display_code, Action.UNFOLLOW, c.id)] for c in cases[:10]]
    rows.append([ctx.btn(ev, m.UNFOLLOW_ALL, Action.UNFOLLOW, "all")])
    return [Reply(m.UNFOLLOW_PICK, rows)]


# --- buttons ----------------------------------------------------------------------------


async def on_follow(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    if not args or not args[0].isdigit():
        return stale()
    return await follow(ctx, session, ev, int(args[0]))


async def on_unfollow(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    if not args or not (args[0].isdigit() or args[0] == "all"):
        return stale()
    if args[0] != "all" and not await linked(
        session, ev.chat_id, int(args[0]), await ctx.states.load(session, ev.chat_id), active=True
    ):
        return stale()  # not a case this chat follows: say nothing about it
    n = await subscriptions.unfollow(session, chat_id=ev.chat_id, case_id=None if args[0] == "all" else int(args[0]))
    return [Reply(m.UNFOLLOWED.format(n=n), edit=True)]
