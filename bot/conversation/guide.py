"""The checklist fitted to the citizen's situation: one to three short questions with buttons (born at a hospital
or not, parents married or not, who submits...), then the citizen's own list, ticked like the plain checklist.

The questions come from the knowledge base: a procedure's `situations` (each an `id`, a `question` and `options`
with a `value` and a `label`) and each document's `applies_when` (situation id -> the option values it is needed
for). A document without `applies_when` is needed whatever the answers. Read through getattr, so entries without
these fields (or a schema that does not have them yet) get the plain checklist.

The answers travel in the buttons (one digit per question: the option's index), not in the chat state, so an old
checklist message still ticks the list it shows.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation import state as chatstate
from bot.conversation.actions import Action
from bot.conversation.context import Context, stale
from bot.replies import messages as m
from bot.replies import phrases as t
from bot.replies.buttons import proc_key
from bot.replies.events import Button, Event, Reply
from knowledge.schema import Document, Procedure

SKIP = "*"  # the answers of "skip the questions": the whole list
MAX_QUESTIONS = 3


def _get(obj: Any, key: str, default: Any = None) -> Any:
    return obj.get(key, default) if isinstance(obj, Mapping) else getattr(obj, key, default)


def situations(proc: Procedure) -> list[Any]:
    return list(getattr(proc, "situations", None) or [])[:MAX_QUESTIONS]


def options(situation: Any) -> list[tuple[str, str]]:
    """(value, label) of each option of a situation question."""
    return [(str(_get(o, "value")), str(_get(o, "label"))) for o in _get(situation, "options", []) or []][:9]


def parse(proc: Procedure, code: str) -> dict[str, str] | None:
    """The answers a button carries ("01": the first option of question 1, the second of question 2); None when
    they do not fit the procedure's questions (an old button after the knowledge base changed)."""
    sits = situations(proc)
    if len(code) > len(sits) or (code and not code.isdigit()):
        return None
    out = {}
    for digit, sit in zip(code, sits, strict=False):
        opts = options(sit)
        if int(digit) >= len(opts):
            return None
        out[str(_get(sit, "id"))] = opts[int(digit)][0]
    return out


def applies(doc: Document, answers: Mapping[str, str]) -> bool:
    """Whether a document is needed for these answers (a situation not asked does not rule it out)."""
    need: Mapping[str, Sequence[str]] = getattr(doc, "applies_when", None) or {}
    return all(answers[k] in vs for k, vs in need.items() if k in answers)


def fitted(proc: Procedure, answers: Mapping[str, str]) -> list[int]:
    return [i for i, d in enumerate(proc.documents) if applies(d, answers)]


def question(ctx: Context, ev: Event, proc: Procedure, code: str, *, edit: bool) -> Reply:
    sits = situations(proc)
    sit = sits[len(code)]
    key = proc_key(proc.id)
    rows = [[ctx.btn(ev, label, Action.GUIDE, key, code + str(i))] for i, (_, label) in enumerate(options(sit))]
    rows.append([ctx.btn(ev, t.GUIDE_SKIP, Action.GUIDE, key, SKIP)])
    ask = t.GUIDE_ASK.format(i=len(code) + 1, n=len(sits), question=html.escape(str(_get(sit, "question"))))
    return Reply(t.GUIDE_TITLE.format(name=html.escape(proc.name)) + "\n" + ask, rows, edit=edit)


async def checklist(ctx: Context, session: AsyncSession, ev: Event, proc: Procedure, code: str, *, edit: bool) -> Reply:
    """The documents these answers need, each a button that ticks it; the text says what is still missing."""
    answers = parse(proc, code) or {}
    items = fitted(proc, answers)
    checked = await chatstate.checklist(session, ev.chat_id, proc.id)
    key = proc_key(proc.id)
    rows: list[list[Button]] = []
    for i in items:
        doc = proc.documents[i]
        # a paper the questions did not settle keeps its condition ("Chỉ khi …"): marked, not left out
        maybe = code and doc.when and not getattr(doc, "applies_when", None)
        name = f"{t.GUIDE_MAYBE} {_short(doc.name, 44)}" if maybe else _short(doc.name)
        rows.append([ctx.btn(ev, f"{'☑' if i in checked else '☐'} {name}", Action.GUIDE_TOGGLE, key, code, i)])
    missing = [proc.documents[i].name for i in items if i not in checked]
    summary = (
        m.CHECKLIST_DONE.format(total=len(items))
        if not missing
        else m.CHECKLIST_MISSING.format(missing=len(missing), total=len(items), names=html.escape("; ".join(missing)))
    )
    labels = [label for _, (_, label) in _chosen(proc, code)]
    if labels:
        fit = t.GUIDE_FITTED.format(answers=html.escape("; ".join(labels)))
        head = t.GUIDE_TITLE.format(name=html.escape(proc.name)) + "\n" + fit
    else:
        head = m.CHECKLIST_TITLE.format(name=html.escape(proc.name))
    return Reply(head + "\n\n" + summary, rows, edit=edit)


def _chosen(proc: Procedure, code: str) -> list[tuple[Any, tuple[str, str]]]:
    return [(sit, options(sit)[int(d)]) for d, sit in zip(code, situations(proc), strict=False)]


def _short(text: str, limit: int = 55) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


async def start(ctx: Context, session: AsyncSession, ev: Event, proc: Procedure) -> Reply | None:
    """The first question, or None when the procedure has no situations (the plain checklist then)."""
    if not situations(proc) or not all(options(s) for s in situations(proc)):
        return None
    return question(ctx, ev, proc, "", edit=False)


async def on_answer(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    """A question answered: the next one in place of it, or the fitted checklist after the last ("skip": the whole
    list)."""
    proc = ctx.procedure(args)
    if proc is None or len(args) != 2:
        return stale()
    if args[1] == SKIP:
        return [await checklist(ctx, session, ev, proc, "", edit=True)]
    if parse(proc, args[1]) is None or not situations(proc):
        return stale()
    if len(args[1]) < len(situations(proc)):
        return [question(ctx, ev, proc, args[1], edit=True)]
    return [await checklist(ctx, session, ev, proc, args[1], edit=True)]


async def on_toggle(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    proc = ctx.procedure(args)
    if proc is None or len(args) != 3 or not args[2].isdigit():
        return stale()
    code, item = args[1], int(args[2])
    answers = parse(proc, code)
    if answers is None or len(code) not in (0, len(situations(proc))) or item not in fitted(proc, answers):
        return stale()
    await chatstate.toggle(session, ev.chat_id, proc.id, item)
    return [await checklist(ctx, session, ev, proc, code, edit=True)]
