"""A free-text question in the thread of a conversation: the result date, a follow-up of the last answer, a switch
to another procedure, a direct answer to a specific question, or the card of the facet asked.

The chat's topic (state.Topic: the procedure and facet of the last answer) is what follow-ups refer to; every answer
about a procedure sets it, and it lapses after 30 minutes of silence. Nothing of what the citizen typed is kept.
"""

from __future__ import annotations

from dataclasses import replace

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation import procedures, specific, thread, when
from bot.conversation.actions import Action
from bot.conversation.context import Context
from bot.conversation.state import ChatState, Topic
from bot.conversation.turn import Answered, Turn
from bot.replies import answers, cards, result_date
from bot.replies import messages as m
from bot.replies import phrases as t
from bot.replies.buttons import proc_key
from bot.replies.events import Event, Reply
from bot.replies.excerpts import Passage
from knowledge.matcher import Understanding
from knowledge.schema import Procedure

REFRESH = 60  # seconds: a topic confirmed more recently than this is not written again
FLOOR = 0.5  # share of a question's words (by rarity) a passage must have to be its direct answer
DOCUMENTS_FLOOR = 0.65  # for "what papers" questions, whose card usually answers them


def topic_of(ctx: Context, state: ChatState) -> Topic | None:
    topic = state.topic
    if topic is None or not topic.fresh(ctx.clock().timestamp()):
        return None
    return topic if ctx.services.kb.get(topic.procedure) is not None else None


async def remember(
    ctx: Context, session: AsyncSession, ev: Event, state: ChatState, proc: Procedure, facet: str, *, sure: bool = True
) -> None:
    """The answer's procedure and facet become the chat's topic (written only when it changes or ages)."""
    now = int(ctx.clock().timestamp())
    old = state.topic
    if old and (old.procedure, old.facet, old.sure) == (proc.id, facet, sure) and 0 <= now - old.at < REFRESH:
        return
    state.topic = Topic(proc.id, facet, now, sure)
    await ctx.states.save(session, ev.chat_id, state)


def turn_for(proc: Procedure, facet: str | None, *, confident: bool = True) -> Turn:
    return Turn("procedure", proc.id, proc.code, facet, confident)


async def question(
    ctx: Context, session: AsyncSession, ev: Event, state: ChatState, u: Understanding
) -> Answered | None:
    """The answer when the message is about a procedure (its own, or the topic's); None when it is something else
    (a case lookup, small talk, off topic), which the core's intent table answers. The topic stays either way."""
    topic = topic_of(ctx, state)
    topic_proc = ctx.services.kb.get(topic.procedure) if topic else None
    if not u.case_code:
        dated = await _dated(ctx, session, ev, state, u, topic_proc)
        if dated is not None:
            return dated
    sig = thread.read(ev.text)
    kb_get = ctx.services.kb.get
    d = thread.decide(u, sig, ev.text, topic_proc, topic.facet if topic else None, ctx.names, kb_get)
    if d.kind == "pick":
        ctx.gaps.add(u, source="bot")
        first = kb_get(u.matches[0].id) if u.matches else None
        if first is None:
            code = u.matches[0].code if u.matches else None
            return Answered([procedures.question(ctx, ev, u)], Turn(u.intent, None, code, u.facet, u.confident))
        # the likeliest becomes the topic, unconfirmed: a follow-up typed instead of a press is answered for it
        await remember(ctx, session, ev, state, first, u.facet or "documents", sure=False)
        return Answered([procedures.question(ctx, ev, u)], turn_for(first, u.facet, confident=False))
    if d.kind == "refuse":  # small talk in the thread: refused, and the topic stays for the next message
        ctx.gaps.add(u, source="bot")
        return Answered([Reply(m.OUT_OF_SCOPE.format(hotline=ctx.hotline()))], Turn("out_of_scope"))
    if d.kind != "answer" or d.proc is None:
        return None
    reply, facet = respond(ctx, ev, d.proc, d.facet, sig)
    if d.follow_up and topic is not None and not topic.sure:  # the pick-list was not answered: say which it is
        reply = replace(reply, text=t.UNCONFIRMED + "\n" + reply.text)
    await remember(ctx, session, ev, state, d.proc, facet)
    return Answered([reply], turn_for(d.proc, facet))


def respond(ctx: Context, ev: Event, proc: Procedure, facet: str | None, sig: thread.Signals) -> tuple[Reply, str]:
    """(reply, facet shown): the whole card when everything is asked; the entry's own sentences first when the
    question asks something specific; else the facet's short card."""
    if sig.everything:
        shown = facet or "documents"
        return procedures.answer(ctx, ev, proc, shown, full=True), shown
    found = _specific(ctx, ev, proc, facet, sig)
    if not found:
        shown = facet or "documents"
        return procedures.answer(ctx, ev, proc, shown), shown
    shown = facet or found[0].facet
    key = proc_key(proc.id)
    card = ctx.btn(ev, t.CARD_BUTTON.format(facet=cards.FACET_TITLES[shown]), Action.FACET, key, shown)
    rows = procedures.facet_rows(ctx, ev, proc, [shown], [])
    return Reply(answers.direct_answer(proc, found), [[card], *rows]), shown


def _specific(ctx: Context, ev: Event, proc: Procedure, facet: str | None, sig: thread.Signals) -> list[Passage]:
    # the citizen's own syllables where the entries use them, the matcher's repaired ones elsewhere ("nop" stays
    # "nộp", where the repair would make it "lớp")
    raw, fixed = thread.folded_tokens(ev.text), ctx.services.matcher.tokens(ev.text)
    toks = [r if r in ctx.excerpts.idf else f for r, f in zip(raw, fixed, strict=False)] + fixed[len(raw) :]
    # a yes/no or "what if" question may ask about words an alias also has ("nâng tầng", "sinh ở nhà"): only the
    # official name is left out of it, and not even that when nothing would be left ("đã có mã số thuế thì có phải
    # làm lại không")
    pointed = sig.yes_no or sig.ellipsis
    grams = (ctx.names.official if pointed else ctx.names.grams).get(proc.id, frozenset())
    q = specific.question(toks, ev.text, sig, grams)
    if pointed and sig.asked_facet is None and (q is None or not (q.words or q.groups or q.figures)):
        q = specific.question(toks, ev.text, sig, frozenset()) or q
    if q is None:
        return []
    # "cần giấy tờ gì" with the citizen's details: the list answers it, unless a paper fits them closely
    floor = DOCUMENTS_FLOOR if facet == "documents" and not pointed else FLOOR
    return ctx.excerpts.best(proc, replace(q, facet=sig.asked_facet if facet == sig.facet else facet), floor=floor)


async def _dated(
    ctx: Context, session: AsyncSession, ev: Event, state: ChatState, u: Understanding, topic: Procedure | None
) -> Answered | None:
    """ "Nộp hôm nay thì bao giờ có kết quả": the estimated date for the procedure named, or the topic's."""
    asked = when.read_day(ev.text, ctx.now())
    if asked is None:
        return None
    named = _named(ctx, u) or _named(ctx, ctx.services.matcher.understand(when.without_day(ev.text)))
    proc = named or topic
    if proc is None:
        if u.intent == "procedure" and u.matches:
            return None  # unsure which: the pick-list, then the date can be asked again
        return Answered([Reply(t.DATE_WHICH)], Turn("procedure", None, None, "time", False))
    at = ctx.now().replace(year=asked.day.year, month=asked.day.month, day=asked.day.day)
    if asked.hour is not None:
        at = at.replace(hour=asked.hour, minute=0)
    est = result_date.estimate(proc.processing_time, at, asked.hour is not None, ctx.calendar)
    text = result_date.estimate_text(proc, est, hour_known=asked.hour is not None, past=asked.past)
    if asked.past:
        text += "\n" + t.DATE_PAST_HINT
    rows = procedures.facet_rows(ctx, ev, proc, ["time"], [])
    await remember(ctx, session, ev, state, proc, "time")
    return Answered([Reply(result_date.with_sources(proc, text), rows)], turn_for(proc, "time"))


def _named(ctx: Context, u: Understanding) -> Procedure | None:
    """The curated procedure a message names with confidence."""
    return ctx.services.kb.get(u.matches[0].id) if u.intent == "procedure" and u.confident and u.matches else None


def follows_up(ctx: Context, state: ChatState, text: str, u: Understanding) -> bool:
    """Whether a message typed while a case code or digits are awaited is a follow-up of the topic instead."""
    topic = topic_of(ctx, state)
    if topic is None:
        return False
    proc = ctx.services.kb.get(topic.procedure)
    sig = thread.read(text)
    if sig.facet is None and not sig.pronoun:  # a lookup's prompt answered with "không nhớ ạ" stays in the lookup
        return False
    d = thread.decide(u, sig, text, proc, topic.facet, ctx.names, ctx.services.kb.get)
    return d.kind == "answer"
