"""The conversation core: one incoming event and the chat's state in, replies out.

Channel-agnostic: the Telegram adapter in handlers/ and the terminal chat both call
`Conversation.handle()`; nothing here knows about Telegram.
"""

from __future__ import annotations

import html
import logging
import math
import traceback
import uuid
from dataclasses import replace

from sqlalchemy import func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases import verification
from bot.cases.rules import STATUSES
from bot.conversation import state as chatstate
from bot.conversation.flood import FloodGuard
from bot.feedback import survey
from bot.feedback import tickets as feedback
from bot.insights import gaps
from bot.notify import outbox, subscriptions
from bot.privacy.erasure import erase_chat
from bot.replies import cards
from bot.replies import messages as m
from bot.replies.buttons import pack, proc_key, unpack
from bot.replies.case_view import case_card, procedure_name
from bot.replies.dates import vn_date
from bot.replies.events import Button, Event, Reply
from bot.services import Services
from bot.storage.db import DB_ERRORS, session_scope
from bot.storage.models import Case
from knowledge.codes import decode_payload, find_code
from knowledge.matcher import Understanding
from knowledge.schema import Procedure

log = logging.getLogger(__name__)
MAX_TEXT = 4096  # Telegram's own limit; anything longer is cut before any work
PAGE = 8


def short(text: str, limit: int = 60) -> str:
    """A button label: whole words, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _leaves_lookup(u: Understanding, text: str, waiting: str) -> bool:
    if find_code(text) or (waiting == "verify" and any(ch.isdigit() for ch in text)):
        return False
    return (u.intent == "procedure" and u.confident) or u.intent in {"greeting", "help", "feedback"}


class Conversation:
    def __init__(self, services: Services, *, flood: FloodGuard | None = None) -> None:
        self.s = services
        self.flood = flood or FloodGuard()
        self.by_key = {proc_key(p.id): p for p in services.kb.procedures}
        self.fields = services.kb.fields()
        self.states = chatstate.ChatStates()
        self.gaps = gaps.GapLog(services.engine)

    # --- entry point ------------------------------------------------------------------

    async def close(self) -> None:
        """Write what is still buffered (the gap log); call before the database engine is closed."""
        await self.gaps.flush()

    async def handle(self, event: Event) -> list[Reply]:
        """Never raises: an unexpected error becomes one polite line with a reference."""
        event = replace(event, text=event.text[:MAX_TEXT], args=event.args[:MAX_TEXT])
        # button presses are paced by the buttons themselves: a checklist of ten items is not a flood
        verdict = self.flood.check(event.chat_id) if event.kind != "callback" else "ok"
        if verdict != "ok":
            return [Reply(m.FLOOD)] if verdict == "warn" else []
        try:
            async with session_scope(self.s.engine) as session:
                replies = await self._dispatch(session, event)
            self.states.committed(session)
            return replies
        except DB_ERRORS:
            log.warning("database unavailable; answering %s event without it", event.kind)
            return self._without_database(event)
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
            return [Reply(m.ERROR.format(ref=ref))]

    def _without_database(self, ev: Event) -> list[Reply]:
        """The knowledge base lives in memory, so procedure questions are still answered while the database
        is down; anything that needs stored state says politely that it is unavailable."""
        if ev.kind == "text":
            u = self.s.matcher.understand(ev.text)
            if u.intent == "procedure" and u.confident:
                return [self._answer(ev, self.s.kb.get(u.matches[0].id), u.facet)]  # type: ignore[arg-type]
            if u.intent == "out_of_scope":
                return [Reply(m.OUT_OF_SCOPE.format(hotline=html.escape(self.s.settings.hotline)))]
        if ev.kind == "callback":
            parts = unpack(ev.callback or "", ev.chat_id, self.s.secret)
            proc = self.by_key.get(parts[1]) if parts and len(parts) == 3 else None
            if parts and parts[0] in {"f", "p"} and proc and parts[2] in cards.FACETS:
                return [self._answer(ev, proc, parts[2])]
        return [Reply(m.DB_DOWN)]

    async def _dispatch(self, session: AsyncSession, ev: Event) -> list[Reply]:
        if ev.kind == "command":
            return await self._command(session, ev)
        if ev.kind == "callback":
            return await self._callback(session, ev)
        if ev.kind == "text":
            return await self._text(session, ev)
        return [Reply(m.UNSUPPORTED)]

    # --- commands ---------------------------------------------------------------------

    async def _command(self, session: AsyncSession, ev: Event) -> list[Reply]:
        cmd = (ev.command or "").lower()
        if cmd in {"start", "menu"}:
            await self.states.save(session, ev.chat_id, {})
            if ev.args:
                return await self._start_case(session, ev, ev.args)
            return [self._greeting(ev)]
        if cmd in {"help", "huongdan", "trogiup"}:
            return [self._help(ev)]
        if cmd in {"cancel", "huy"}:
            await self.states.save(session, ev.chat_id, {})
            return [Reply(m.CANCELLED)]
        if cmd == "linhvuc":
            return [self._fields(ev)]
        if cmd == "tracuu":
            return await self._case_prompt(session, ev, ev.args)
        if cmd == "theodoi":
            return await self._case_prompt(session, ev, ev.args, then="follow")
        if cmd == "hosocuatoi":
            return [await self._my_cases(session, ev)]
        if cmd == "huytheodoi":
            return [await self._unfollow_menu(session, ev)]
        if cmd == "gopy":
            return await self._feedback_start(session, ev)
        if cmd == "danhgia":
            return [await self._survey_start(session, ev, None)]
        if cmd == "xoadulieu":
            return [
                Reply(m.ERASE_CONFIRM, [[self._btn(ev, m.ERASE_YES, "xd", "y"), self._btn(ev, m.ERASE_NO, "xd", "n")]])
            ]
        if cmd in {"thongke", "khoangtrong"} and ev.user_id in self.s.settings.staff_user_ids:
            return [await (self._staff_stats(session) if cmd == "thongke" else self._staff_gaps(session))]
        return [Reply(m.UNKNOWN_COMMAND)]

    def _menu(self, ev: Event) -> list[list[Button]]:
        b = lambda text, *parts: Button(text, pack(ev.chat_id, self.s.secret, *parts))  # noqa: E731
        return [
            [b(m.MENU_PROCEDURE, "m", "proc"), b(m.MENU_BROWSE, "m", "browse")],
            [b(m.MENU_CASE, "m", "case"), b(m.MENU_FOLLOW, "m", "follow")],
            [b(m.MENU_FEEDBACK, "m", "feedback"), b(m.MENU_HELP, "m", "help")],
        ]

    def _greeting(self, ev: Event) -> Reply:
        return Reply(html.escape(m.GREETING.format(office=self.s.settings.office_name)), self._menu(ev))

    def _help(self, ev: Event) -> Reply:
        return Reply(m.HELP.format(hotline=html.escape(self.s.settings.hotline)))

    # --- free text --------------------------------------------------------------------

    async def _text(self, session: AsyncSession, ev: Event) -> list[Reply]:
        state = await self.states.load(session, ev.chat_id)
        waiting = state.get("await")
        u = None
        if waiting in {"code", "verify"}:
            # the answer asked for is a receipt code, or digits (phone or birth year); a procedure question typed
            # instead leaves the lookup, rather than being refused or counted as a failed verification
            u = self.s.matcher.understand(ev.text)
            if _leaves_lookup(u, ev.text, waiting):
                await self.states.save(session, ev.chat_id, {"verified": state.get("verified", [])})
            elif waiting == "code":
                return await self._case_prompt(session, ev, ev.text, then=state.get("then"))
            elif any(ch.isdigit() for ch in ev.text):
                return await self._verify(session, ev, state)
            else:  # no digits at all: not an attempt, so it does not count against the limit
                return [Reply(m.ASK_VERIFY[self.s.settings.verify_by])]
        if waiting == "fb_text":
            state.update({"await": "fb_code", "text": ev.text[: feedback.MAX_TEXT]})
            await self.states.save(session, ev.chat_id, state)
            return [Reply(m.FEEDBACK_ASK_CODE, [[self._btn(ev, m.SKIP, "gs")]])]
        if waiting == "fb_code":
            return [await self._feedback_finish(session, ev, state, find_code(ev.text))]
        if waiting == "sv_comment":
            return [await self._survey_finish(session, ev, state, ev.text)]
        u = u or self.s.matcher.understand(ev.text)
        self.gaps.add(u, source="bot")
        if u.intent == "case_status":
            return await self._case_prompt(session, ev, u.case_code or "")
        if u.intent == "greeting":
            return [self._greeting(ev)]
        if u.intent == "thanks":
            return [Reply(m.THANKS)]
        if u.intent == "help":
            return [self._help(ev)]
        if u.intent == "feedback":
            return [Reply(m.FEEDBACK_HINT)]
        if u.intent == "out_of_scope":
            return [Reply(m.OUT_OF_SCOPE.format(hotline=html.escape(self.s.settings.hotline)))]
        procs = [self.s.kb.get(x.id) for x in u.matches]
        if u.confident:
            return [self._answer(ev, procs[0], u.facet)]  # type: ignore[arg-type]
        rows = [
            [Button(short(p.name), pack(ev.chat_id, self.s.secret, "p", proc_key(p.id), u.facet or "documents"))]
            for p in procs[:4]
            if p
        ]
        rows.append([Button(m.NONE_OF_THESE, pack(ev.chat_id, self.s.secret, "n"))])
        return [Reply(m.NOT_SURE, rows)]

    def _answer(self, ev: Event, proc: Procedure, facet: str | None, *, edit: bool = False) -> Reply:
        key = proc_key(proc.id)
        has_forms = any(d.form for d in proc.documents)
        others = [f for f in cards.FACETS if f != (facet or "documents") and (f != "forms" or has_forms)]
        btns = [Button(m.FACET_BUTTONS[f], pack(ev.chat_id, self.s.secret, "f", key, f)) for f in others]
        btns.append(Button(m.CHECKLIST_BUTTON, pack(ev.chat_id, self.s.secret, "cl", key)))
        rows = [btns[i : i + 2] for i in range(0, len(btns), 2)]
        return Reply(cards.answer(proc, facet), rows, edit=edit)

    # --- buttons ----------------------------------------------------------------------

    async def _callback(self, session: AsyncSession, ev: Event) -> list[Reply]:
        parts = unpack(ev.callback or "", ev.chat_id, self.s.secret)
        if not parts:
            return [Reply("", toast=m.STALE_BUTTON)]
        action, args = parts[0], parts[1:]
        proc = self.by_key.get(args[0]) if args else None
        if action in {"f", "p"} and proc and len(args) == 2 and args[1] in cards.FACETS:
            return [self._answer(ev, proc, args[1])]
        if action == "n":
            return [Reply(m.NONE_REPLY.format(hotline=html.escape(self.s.settings.hotline)))]
        if action == "cl" and proc:
            return [await self._checklist(session, ev, proc, edit=False)]
        if action == "ct" and proc and len(args) == 2 and args[1].isdigit() and int(args[1]) < len(proc.documents):
            await chatstate.toggle(session, ev.chat_id, proc.id, int(args[1]))
            return [await self._checklist(session, ev, proc, edit=True)]
        if action == "lf":
            return [self._fields(ev, edit=True)]
        if (
            action == "lv"
            and len(args) == 2
            and args[0].isdigit()
            and args[1].isdigit()
            and int(args[0]) < len(self.fields)
        ):
            return [self._field_page(ev, int(args[0]), int(args[1]))]
        if action == "m" and args:
            return await self._menu_action(session, ev, args[0])
        if action == "fo" and args and args[0].isdigit():
            return await self._follow(session, ev, int(args[0]))
        if action == "uf" and args and (args[0].isdigit() or args[0] == "all"):
            n = await subscriptions.unfollow(
                session, chat_id=ev.chat_id, case_id=None if args[0] == "all" else int(args[0])
            )
            return [Reply(m.UNFOLLOWED.format(n=n), edit=True)]
        if action == "gc" and args and args[0] in feedback.CATEGORIES:
            await self.states.save(session, ev.chat_id, {"await": "fb_text", "category": args[0]})
            return [Reply(m.FEEDBACK_ASK_TEXT.format(category=feedback.CATEGORIES[args[0]]), edit=True)]
        if action == "gs":
            state = await self.states.load(session, ev.chat_id)
            if state.get("await") == "fb_code":
                return [await self._feedback_finish(session, ev, state, None)]
        if action == "sv" and args and args[0].isdigit():
            return [await self._survey_start(session, ev, int(args[0]))]
        if action == "ss" and len(args) == 2 and args[0].isdigit() and args[1] in "12345" and len(args[1]) == 1:
            return [await self._survey_score(session, ev, int(args[0]), int(args[1]))]
        if action == "xd" and args:
            if args[0] != "y":
                return [Reply(m.ERASE_KEPT, edit=True)]
            done = await erase_chat(session, ev.chat_id)
            self.states.forget(ev.chat_id)
            return [
                Reply(
                    m.ERASE_DONE.format(
                        follows=done.follows,
                        checklists=done.checklists,
                        feedback=done.feedback_links,
                        pending=done.pending_messages,
                    ),
                    edit=True,
                )
            ]
        if action == "sc":
            state = await self.states.load(session, ev.chat_id)
            if state.get("await") == "sv_comment":
                return [await self._survey_finish(session, ev, state, None)]
        return [Reply("", toast=m.STALE_BUTTON)]

    async def _menu_action(self, session: AsyncSession, ev: Event, item: str) -> list[Reply]:
        if item == "proc":
            return [Reply(m.ASK_PROCEDURE)]
        if item in {"case", "follow"}:
            return await self._case_prompt(session, ev, "", then="follow" if item == "follow" else None)
        if item == "feedback":
            return await self._feedback_start(session, ev)
        if item == "browse":  # a new message: the menu stays where it is
            return [self._fields(ev)]
        return [self._help(ev)]

    # --- checklist --------------------------------------------------------------------

    async def _checklist(self, session: AsyncSession, ev: Event, proc: Procedure, *, edit: bool) -> Reply:
        checked = await chatstate.checklist(session, ev.chat_id, proc.id)
        key = proc_key(proc.id)
        rows = [
            [
                Button(
                    f"{'☑' if i in checked else '☐'} {short(d.name, 55)}", pack(ev.chat_id, self.s.secret, "ct", key, i)
                )
            ]
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

    # --- browsing ---------------------------------------------------------------------

    def _fields(self, ev: Event, *, edit: bool = False) -> Reply:
        rows = [[Button(f, pack(ev.chat_id, self.s.secret, "lv", i, 0))] for i, f in enumerate(self.fields)]
        return Reply(m.FIELDS_TITLE, rows, edit=edit)

    def _field_page(self, ev: Event, field_idx: int, page: int) -> Reply:
        field_name = self.fields[field_idx]
        procs = self.s.kb.in_field(field_name)
        pages = max(1, math.ceil(len(procs) / PAGE))
        page = min(max(page, 0), pages - 1)
        rows = [
            [Button(short(p.name), pack(ev.chat_id, self.s.secret, "p", proc_key(p.id), "documents"))]
            for p in procs[page * PAGE : (page + 1) * PAGE]
        ]
        nav = []
        if page > 0:
            nav.append(Button(m.PREV, pack(ev.chat_id, self.s.secret, "lv", field_idx, page - 1)))
        nav.append(Button(m.BACK_TO_FIELDS, pack(ev.chat_id, self.s.secret, "lf")))
        if page < pages - 1:
            nav.append(Button(m.NEXT, pack(ev.chat_id, self.s.secret, "lv", field_idx, page + 1)))
        rows.append(nav)
        text = m.FIELD_TITLE.format(field=html.escape(field_name), page=page + 1, pages=pages)
        return Reply(text, rows, edit=True)

    # --- case lookup ------------------------------------------------------------------

    async def _start_case(self, session: AsyncSession, ev: Event, payload: str) -> list[Reply]:
        code = decode_payload(payload)
        return await self._case_prompt(session, ev, code or "")

    async def _case_prompt(self, session: AsyncSession, ev: Event, text: str, then: str | None = None) -> list[Reply]:
        code = find_code(text) if text else None
        if not code:
            state = await self.states.load(session, ev.chat_id)
            then = then or state.get("then")
            await self.states.save(
                session, ev.chat_id, {"await": "code", "then": then, "verified": state.get("verified", [])}
            )
            return [Reply(m.BAD_CODE if text.strip() else m.ASK_CODE)]
        until = await verification.blocked_until(session, chat_id=ev.chat_id, code=code)
        if until:
            return [self._blocked(until)]
        state = await self.states.load(session, ev.chat_id)
        await self.states.save(
            session,
            ev.chat_id,
            {"await": "verify", "code": code, "then": then or state.get("then"), "verified": state.get("verified", [])},
        )
        return [Reply(m.ASK_VERIFY[self.s.settings.verify_by])]

    def _blocked(self, until) -> Reply:  # type: ignore[no-untyped-def]
        local = until.astimezone(self.s.settings.tz)
        return Reply(m.TOO_MANY_ATTEMPTS.format(time=f"{local:%H:%M} ngày {vn_date(local.date())}"))

    async def _verify(self, session: AsyncSession, ev: Event, state: dict) -> list[Reply]:
        code = state.get("code", "")
        until = await verification.blocked_until(session, chat_id=ev.chat_id, code=code)
        if until:
            await self.states.save(session, ev.chat_id, {})
            return [self._blocked(until)]
        case = await verification.verify(
            session, chat_id=ev.chat_id, code=code, answer=ev.text, verify_by=self.s.settings.verify_by
        )
        verified = list(state.get("verified", []))
        if case is None:
            await self.states.save(session, ev.chat_id, {"verified": verified})
            return [Reply(m.VERIFY_FAILED.format(hotline=html.escape(self.s.settings.hotline)))]
        verified = [*verified[-9:], case.id] if case.id not in verified else verified
        await self.states.save(session, ev.chat_id, {"verified": verified})
        card = await self._case_card(session, case)
        if state.get("then") == "follow":
            return [card, *await self._follow(session, ev, case.id)]  # type: ignore[arg-type]
        return [Reply(card.text, [[self._btn(ev, m.FOLLOW_BUTTON, "fo", case.id)]])]

    def _btn(self, ev: Event, text: str, *parts: object) -> Button:
        return Button(text, pack(ev.chat_id, self.s.secret, *parts))

    async def _follow(self, session: AsyncSession, ev: Event, case_id: int) -> list[Reply]:
        state = await self.states.load(session, ev.chat_id)
        case = await session.get(Case, case_id)
        if case is None or case_id not in state.get("verified", []):
            return [Reply(m.NOT_VERIFIED)]
        created = await subscriptions.follow(
            session, chat_id=ev.chat_id, case=case, kb=self.s.kb, settings=self.s.settings
        )
        return [Reply("", toast=m.FOLLOWED_TOAST if created else m.ALREADY_FOLLOWED)]

    async def _my_cases(self, session: AsyncSession, ev: Event) -> Reply:
        cases = await subscriptions.followed(session, ev.chat_id)
        if not cases:
            return Reply(m.NO_FOLLOWS)
        lines = [m.MY_CASES] + [
            f"• {html.escape(c.display_code)}: {html.escape(procedure_name(c, self.s.kb))} "
            f"— <b>{STATUSES[c.status]}</b>"
            for c in cases
        ]
        return Reply("\n".join(lines))

    async def _unfollow_menu(self, session: AsyncSession, ev: Event) -> Reply:
        cases = await subscriptions.followed(session, ev.chat_id)
        if not cases:
            return Reply(m.NO_FOLLOWS)
        rows = [[self._btn(ev, c.display_code, "uf", c.id)] for c in cases[:10]]
        rows.append([self._btn(ev, m.UNFOLLOW_ALL, "uf", "all")])
        return Reply(m.UNFOLLOW_PICK, rows)

    # --- staff -----------------------------------------------------------------------

    async def _staff_stats(self, session: AsyncSession) -> Reply:
        rows = (await session.exec(select(Case.status, func.count()).group_by(Case.status))).all()
        cases = "\n".join(f"• {STATUSES.get(st, st)}: {n}" for st, n in rows) or "• (chưa có)"
        box = ", ".join(f"{k}: {v}" for k, v in sorted((await outbox.counts(session)).items())) or "0"
        return Reply(m.STAFF_STATS.format(cases=cases, outbox=html.escape(box)))

    async def _staff_gaps(self, session: AsyncSession) -> Reply:
        await self.gaps.flush()  # what this process has not written yet counts too
        rows = await gaps.top_gaps(session, limit=15)
        if not rows:
            return Reply(m.STAFF_NO_GAPS)
        return Reply(m.STAFF_GAPS.format(rows="\n".join(f"{g.count}× {html.escape(g.text)}" for g in rows)))

    # --- feedback ---------------------------------------------------------------------

    async def _feedback_start(self, session: AsyncSession, ev: Event) -> list[Reply]:
        if ev.kind == "command" and ev.args.strip():
            fb = await feedback.find(session, ev.args)
            if fb is None:
                return [Reply(m.FEEDBACK_NOT_FOUND)]
            text = m.FEEDBACK_STATE.format(
                no=html.escape(fb.tracking_no),
                category=feedback.CATEGORIES[fb.category],
                date=vn_date(fb.created_at.astimezone(self.s.settings.tz).date()),
                state=feedback.STATES.get(fb.status, fb.status),
            )
            if fb.reply:
                text += m.FEEDBACK_REPLY.format(reply=html.escape(fb.reply))
            return [Reply(text)]
        rows = [[self._btn(ev, label, "gc", key)] for key, label in feedback.CATEGORIES.items()]
        return [Reply(m.FEEDBACK_PICK, rows)]

    async def _feedback_finish(self, session: AsyncSession, ev: Event, state: dict, code: str | None) -> Reply:
        fb = await feedback.create(
            session,
            chat_id=ev.chat_id,
            category=state.get("category", "khac"),
            text=state.get("text", ""),
            case_code=code,
        )
        await self.states.save(session, ev.chat_id, {"verified": state.get("verified", [])})
        return Reply(m.FEEDBACK_DONE.format(no=fb.tracking_no))

    # --- survey -----------------------------------------------------------------------

    def _survey_question(self, ev: Event, i: int, about: str, *, edit: bool) -> Reply:
        text = m.SURVEY_INTRO.format(about=about, i=i + 1, criterion=survey.CRITERIA[i][1])
        return Reply(text, [[self._btn(ev, str(v), "ss", i, v) for v in range(1, 6)]], edit=edit)

    async def _survey_start(self, session: AsyncSession, ev: Event, case_id: int | None) -> Reply:
        case = await session.get(Case, case_id) if case_id else None
        await self.states.save(session, ev.chat_id, {"survey": {"case": case.id if case else None, "scores": {}}})
        about = f" cho hồ sơ {html.escape(case.display_code)}" if case else ""
        return self._survey_question(ev, 0, about, edit=False)

    async def _survey_score(self, session: AsyncSession, ev: Event, i: int, score: int) -> Reply:
        state = await self.states.load(session, ev.chat_id)
        sv = state.get("survey")
        if not sv or i != len(sv["scores"]) or i >= len(survey.KEYS):
            return Reply("", toast=m.STALE_BUTTON)
        sv["scores"][survey.KEYS[i]] = score
        if i + 1 < len(survey.KEYS):
            await self.states.save(session, ev.chat_id, state)
            return self._survey_question(ev, i + 1, "", edit=True)
        state["await"] = "sv_comment"
        await self.states.save(session, ev.chat_id, state)
        return Reply(m.SURVEY_ASK_COMMENT, [[self._btn(ev, m.SKIP, "sc")]], edit=True)

    async def _survey_finish(self, session: AsyncSession, ev: Event, state: dict, comment: str | None) -> Reply:
        sv = state.get("survey") or {}
        case = await session.get(Case, sv["case"]) if sv.get("case") else None
        await survey.save(session, scores=sv.get("scores", {}), comment=(comment or "")[:1000] or None, case=case)
        await self.states.save(session, ev.chat_id, {"verified": state.get("verified", [])})
        return Reply(m.SURVEY_DONE)

    async def _case_card(self, session: AsyncSession, case: Case) -> Reply:
        return Reply(await case_card(session, case, self.s.kb, self.s.settings))
