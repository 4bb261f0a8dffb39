"""Procedures: answer cards and their facets, the pick-list when unsure, browsing by field, checklists.

A card is the short one (bot/replies/answers.py): what does not fit is behind "📜 Xem đầy đủ", and the documents of
special situations behind "📎 Trường hợp đặc biệt"."""

from __future__ import annotations

import html
import math

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation import guide
from bot.conversation import state as chatstate
from bot.conversation.actions import Action
from bot.conversation.context import Context, stale
from bot.replies import answers, cards
from bot.replies import messages as m
from bot.replies import phrases as t
from bot.replies.buttons import proc_key
from bot.replies.events import Button, Event, Reply
from bot.replies.pointer import pointer_card
from knowledge.matcher import Understanding
from knowledge.schema import Procedure

PAGE = 8  # procedures per page when browsing a field


def short(text: str, limit: int = 60) -> str:
    """A button label: whole words, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def answer(
    ctx: Context, ev: Event, proc: Procedure, facet: str | None, *, edit: bool = False, full: bool = False
) -> Reply:
    """An answer card (the short one unless `full`), with buttons for what did not fit, the other facets (forms
    only when there are any) and the checklist."""
    facet = facet or "documents"
    text, cut = (cards.answer(proc, facet), False) if full else answers.facet_card(proc, facet)
    key = proc_key(proc.id)
    extra = []
    if facet == "documents" and answers.special_documents(proc):
        extra.append(ctx.btn(ev, t.SPECIAL_BUTTON, Action.SPECIAL, key))
    if cut:
        extra.append(ctx.btn(ev, t.FULL_BUTTON, Action.FULL, key, facet))
    return Reply(text, facet_rows(ctx, ev, proc, [facet], extra), edit=edit)


def facet_rows(ctx: Context, ev: Event, proc: Procedure, shown: list[str], extra: list[Button]) -> list[list[Button]]:
    """Buttons under an answer: the other facets, then `extra`, then the checklist last, two to a row."""
    key = proc_key(proc.id)
    has_forms = any(d.form for d in proc.documents)
    others = [f for f in cards.FACETS if f not in shown and (f != "forms" or has_forms)]
    btns = [ctx.btn(ev, m.FACET_BUTTONS[f], Action.FACET, key, f) for f in others]
    btns += extra
    btns.append(ctx.btn(ev, m.CHECKLIST_BUTTON, Action.CHECKLIST, key))
    return [btns[i : i + 2] for i in range(0, len(btns), 2)]


def question(ctx: Context, ev: Event, u: Understanding) -> Reply:
    """A procedure question: the answer when the matcher is confident, else the likeliest few to pick from, across
    our own procedures and the national index."""
    procs = [ctx.services.kb.get(x.id) for x in u.matches]
    if u.confident and procs and procs[0]:
        return answer(ctx, ev, procs[0], u.facet)
    if u.confident and u.matches and u.matches[0].tier == "national" and u.matches[0].code:
        return pointer(ctx, u.matches[0].code) or Reply(m.NOT_SURE)
    rows = []
    for match, proc in list(zip(u.matches, procs, strict=True))[:4]:
        if proc is not None:
            rows.append([ctx.btn(ev, short(proc.name), Action.PICK, proc_key(proc.id), u.facet or "documents")])
        elif match.tier == "national" and match.code:
            rows.append([ctx.btn(ev, short(match.name), Action.NATIONAL, match.code)])
    rows.append([ctx.btn(ev, m.NONE_OF_THESE, Action.NONE_OF_THESE)])
    return Reply(m.NOT_SURE, rows)


def pointer(ctx: Context, code: str) -> Reply | None:
    """The pointer card of a national procedure we have no guide for: who handles it, the portal page, the
    hotline, and the portal's own record where it was crawled, labelled as such."""
    national = ctx.services.national
    proc = national.get(code) if national else None
    if national is None or proc is None:
        return None
    return Reply(
        pointer_card(proc, hotline=ctx.settings.hotline, detail=national.detail(code), crawled=national.crawled)
    )


async def on_national(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    reply = pointer(ctx, args[0]) if len(args) == 1 else None
    return [reply] if reply is not None else stale()


def fields(ctx: Context, ev: Event, *, edit: bool = False) -> Reply:
    rows = [[ctx.btn(ev, f, Action.FIELD_PAGE, i, 0)] for i, f in enumerate(ctx.fields)]
    return Reply(m.FIELDS_TITLE, rows, edit=edit)


def field_page(ctx: Context, ev: Event, field_idx: int, page: int) -> Reply:
    """One page of a field's procedures; a page past either end (an old button) shows the nearest one."""
    field_name = ctx.fields[field_idx]
    procs = ctx.services.kb.in_field(field_name)
    pages = max(1, math.ceil(len(procs) / PAGE))
    page = min(max(page, 0), pages - 1)
    rows = [
        [ctx.btn(ev, short(p.name), Action.PICK, proc_key(p.id), "documents")]
        for p in procs[page * PAGE : (page + 1) * PAGE]
    ]
    nav = []
    if page > 0:
        nav.append(ctx.btn(ev, m.PREV, Action.FIELD_PAGE, field_idx, page - 1))
    nav.append(ctx.btn(ev, m.BACK_TO_FIELDS, Action.FIELDS))
    if page < pages - 1:
        nav.append(ctx.btn(ev, m.NEXT, Action.FIELD_PAGE, field_idx, page + 1))
    rows.append(nav)
    text = m.FIELD_TITLE.format(field=html.escape(field_name), page=page + 1, pages=pages)
    return Reply(text, rows, edit=True)


async def checklist(ctx: Context, session: AsyncSession, ev: Event, proc: Procedure, *, edit: bool) -> Reply:
    """The documents to bring, each a button that ticks it; the text says what is still missing."""
    checked = await chatstate.checklist(session, ev.chat_id, proc.id)
    key = proc_key(proc.id)
    rows = [
        [ctx.btn(ev, f"{'☑' if i in checked else '☐'} {short(d.name, 55)}", Action.CHECK_TOGGLE, key, i)]
        for i, d in enumerate(proc.documents)
    ]
    missing = [d.name for i, d in enumerate(proc.documents) if i not in checked]
    total = len(proc.documents)
    summary = (
        m.CHECKLIST_DONE.format(total=total)
        if not missing
        else m.CHECKLIST_MISSING.format(missing=len(missing), total=total, names=html.escape("; ".join(missing)))
    )
    text = m.CHECKLIST_TITLE.format(name=html.escape(proc.name)) + "\n\n" + summary
    return Reply(text, rows, edit=edit)


# --- commands and buttons -------------------------------------------------------------


async def on_fields_command(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    return [fields(ctx, ev)]


async def on_facet(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    """FACET and PICK: both show a facet of a procedure's card, as a new message."""
    proc = ctx.procedure(args)
    if proc is None or len(args) != 2 or args[1] not in cards.FACETS:
        return stale()
    return [answer(ctx, ev, proc, args[1])]


async def on_none_of_these(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    return [Reply(m.NONE_REPLY.format(hotline=ctx.hotline()))]


async def on_checklist(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    """The situation questions first when the entry has them, else the whole list."""
    proc = ctx.procedure(args)
    if proc is None:
        return stale()
    asked = await guide.start(ctx, session, ev, proc)
    return [asked or await checklist(ctx, session, ev, proc, edit=False)]


async def on_full(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    """The whole card of a facet, when the citizen asks for everything."""
    proc = ctx.procedure(args)
    if proc is None or len(args) != 2 or args[1] not in cards.FACETS:
        return stale()
    return [answer(ctx, ev, proc, args[1], full=True)]


async def on_special(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    """The documents of special situations, each with the situation it is for."""
    proc = ctx.procedure(args)
    if proc is None or len(args) != 1 or not answers.special_documents(proc):
        return stale()
    key = proc_key(proc.id)
    extra = [ctx.btn(ev, m.FACET_BUTTONS["documents"], Action.FACET, key, "documents")]
    return [Reply(answers.special_card(proc), [extra, [ctx.btn(ev, m.CHECKLIST_BUTTON, Action.CHECKLIST, key)]])]


async def on_check_toggle(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    proc = ctx.procedure(args)
    if proc is None or len(args) != 2 or not args[1].isdigit() or int(args[1]) >= len(proc.documents):
        return stale()
    await chatstate.toggle(session, ev.chat_id, proc.id, int(args[1]))
    return [await checklist(ctx, session, ev, proc, edit=True)]


async def on_fields(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    """Back to the list of fields, in place of the page being browsed."""
    return [fields(ctx, ev, edit=True)]


async def on_field_page(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    if len(args) != 2 or not args[0].isdigit() or not args[1].isdigit() or int(args[0]) >= len(ctx.fields):
        return stale()
    return [field_page(ctx, ev, int(args[0]), int(args[1]))]
