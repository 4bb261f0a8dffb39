"""Ownership of cases, forged buttons, hostile input: each defence in docs/security.md has a test here."""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlmodel import select

from bot.conversation.core import Conversation
from bot.notify.subscriptions import follow
from bot.privacy import retention
from bot.replies.buttons import MAX_BYTES, pack, unpack
from bot.replies.events import Event
from bot.services import Services
from bot.staff import demo
from bot.storage.db import session_scope
from bot.storage.models import Subscription, VerificationAttempt


async def _seed(engine, settings, kb, n: int = 3):  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        return await demo.seed(
            session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=n, today=dt.date(2026, 11, 25)
        )


def _wrong(digits: str) -> str:
    return "0000" if digits != "0000" else "1111"


async def test_five_failures_per_chat_block_further_attempts_across_restarts(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    cases = await _seed(engine, settings, kb)
    conv = Conversation(Services(settings, kb, matcher, engine))
    for _ in range(5):
        await conv.handle(Event(40, "command", command="tracuu", args=cases[0].code))
        [r] = await conv.handle(Event(40, "text", text=_wrong(cases[0].phone_last4)))
        assert "chưa khớp" in r.text
    restarted = Conversation(Services(settings, kb, matcher, engine))  # counted in the database, not in memory
    [blocked] = await restarted.handle(Event(40, "command", command="tracuu", args=cases[1].code))
    assert "sai quá nhiều lần" in blocked.text and "ngày" in blocked.text
    [other_chat] = await restarted.handle(Event(41, "command", command="tracuu", args=cases[1].code))
    assert "4 số cuối" in other_chat.text  # another chat is not blocked by this one


async def test_failures_per_code_across_chats_block_that_code(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    cases = await _seed(engine, settings, kb)
    conv = Conversation(Services(settings, kb, matcher, engine))
    for chat in range(50, 55):  # five different chats guess the same code
        await conv.handle(Event(chat, "command", command="tracuu", args=cases[0].code))
        await conv.handle(Event(chat, "text", text=_wrong(cases[0].phone_last4)))
    [r] = await conv.handle(Event(60, "command", command="tracuu", args=cases[0].code))
    assert "sai quá nhiều lần" in r.text
    [right] = await conv.handle(Event(60, "command", command="tracuu", args=cases[1].code))
    assert "4 số cuối" in right.text  # other codes are still open to this chat
    async with session_scope(engine) as s:
        rows = (await s.exec(select(VerificationAttempt))).all()
    assert rows and all(len(r.key) <= 32 and cases[0].code not in r.key for r in rows)  # codes kept hashed


async def test_unknown_code_and_wrong_digits_look_the_same(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    cases = await _seed(engine, settings, kb)
    conv = Conversation(Services(settings, kb, matcher, engine))
    await conv.handle(Event(70, "command", command="tracuu", args=cases[0].code))
    [wrong] = await conv.handle(Event(70, "text", text=_wrong(cases[0].phone_last4)))
    await conv.handle(Event(71, "command", command="tracuu", args="000.00.99.H99-990101-9999"))
    [unknown] = await conv.handle(Event(71, "text", text="1234"))
    assert wrong == unknown


async def test_follow_needs_verification_even_with_a_genuine_button_of_another_case(
    settings, kb, matcher, engine
) -> None:  # type: ignore[no-untyped-def]
    cases = await _seed(engine, settings, kb)
    conv = Conversation(Services(settings, kb, matcher, engine))
    async with session_scope(engine) as s:
        from bot.cases.rules import get_case

        other = await get_case(s, cases[2].code)
    forged = pack(80, settings.secret_key.get_secret_value(), "fo", other.id)  # signed, but never verified here
    [r] = await conv.handle(Event(80, "callback", callback=forged))
    assert "xác minh" in r.text
    async with session_scope(engine) as s:
        assert not (await s.exec(select(Subscription).where(Subscription.chat_id == 80))).all()


@hsettings(max_examples=300, deadline=None)
@given(
    chat=st.integers(-(10**13), 10**13),
    parts=st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", max_size=8), min_size=1, max_size=3),
)
def test_button_data_round_trips_only_for_its_own_chat(chat: int, parts: list[str]) -> None:
    try:
        data = pack(chat, "k", *parts)
    except ValueError:
        return  # too long to be a button: refused at creation, never sent
    assert len(data.encode()) <= MAX_BYTES
    assert unpack(data, chat, "k") == ":".join(parts).split(":")
    assert unpack(data, chat + 1, "k") is None and unpack(data, chat, "other-secret") is None


@hsettings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_button_data_is_refused(data: str) -> None:
    assert unpack(data, 1, "k") is None  # no way to make a valid tag without the secret


async def test_oversized_messages_are_cut_before_any_work(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = Conversation(Services(settings, kb, matcher, engine))
    start = time.perf_counter()
    [r] = await conv.handle(Event(90, "text", text="làm căn cước " + "a" * 1_000_000))
    assert r.text and time.perf_counter() - start < 30  # bounded: not a wall-clock target, a hang guard


async def test_retention_ends_follows_of_closed_cases(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    cases = await _seed(engine, settings, kb, n=8)
    closed = next(c for c in cases if c.status == "returned")
    async with session_scope(engine) as s:
        from bot.cases.rules import get_case

        case = await get_case(s, closed.code)
        await follow(s, chat_id=95, case=case, kb=kb, settings=settings)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=400)
    async with session_scope(engine) as s:
        done = await retention.purge(s, chat_days=90, gaps_days=180, closed_days=30, now=later)
    assert done.follows == 1
    async with session_scope(engine) as s:
        assert not (await s.exec(select(Subscription).where(Subscription.chat_id == 95))).all()


_HEADER = "code,procedure_id,agency,applicant_name,phone,received_at,appointment_date\n"


@hsettings(max_examples=150, deadline=None)
@given(body=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: (_HEADER + t).encode("utf-8"))))
def test_import_parser_fuzz_never_crashes_and_points_at_a_place(tmp_path_factory, kb, body: bytes) -> None:  # type: ignore[no-untyped-def]
    from bot.settings import Settings
    from bot.staff.importing import read_file

    path = tmp_path_factory.mktemp("fuzz") / "cases.csv"
    path.write_bytes(body)
    parsed = read_file(path, kb=kb, settings=Settings(_env_file=None))  # type: ignore[call-arg]
    for err in parsed.errors:
        assert str(err).startswith(f"{path}:{err.row}:") and err.message
    assert parsed.rows or parsed.errors or parsed.read == 0


@hsettings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_code_parser_fuzz(text: str) -> None:
    from knowledge.codes import find_code, normalize_code

    code = find_code(text)
    assert code is None or normalize_code(code) == normalize_code(text)


async def test_staff_commands_do_not_answer_in_group_chats(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    staff = settings.model_copy(update={"staff_user_ids": [99]})
    conv = Conversation(Services(staff, kb, matcher, engine))
    for cmd in ("thongke", "khoangtrong"):
        [r] = await conv.handle(Event(-100123, "command", command=cmd, user_id=99, is_group=True))
        assert "chưa hiểu lệnh" in r.text, cmd
    [private] = await conv.handle(Event(99, "command", command="thongke", user_id=99))
    assert private.text.startswith("<b>Thống kê</b>")


async def test_case_buttons_need_the_chat_to_be_linked_to_the_case(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    """A signed (forged with a leaked secret, or replayed) survey, follow or unfollow button naming another chat's
    case does nothing and shows nothing of it; the chat that follows the case gets its survey."""
    from bot.cases.rules import get_case
    from bot.replies import messages as m

    cases = await _seed(engine, settings, kb)
    conv = Conversation(Services(settings, kb, matcher, engine))
    secret = settings.secret_key.get_secret_value()
    async with session_scope(engine) as s:
        other = await get_case(s, cases[2].code)
        assert other is not None
        s.add(Subscription(chat_id=82, case_id=other.id))  # the owner's chat follows it
    for data in (("sv", other.id), ("uf", other.id), ("fo", other.id)):
        replies = await conv.handle(Event(81, "callback", callback=pack(81, secret, *data)))
        assert all(other.display_code not in r.text and not r.buttons for r in replies), data
        assert replies[0].toast == m.STALE_BUTTON or "xác minh" in replies[0].text, data
    async with session_scope(engine) as s:
        assert not (await s.exec(select(Subscription).where(Subscription.chat_id == 81))).all()
        assert (await s.exec(select(Subscription).where(Subscription.chat_id == 82))).one().active
    [q] = await conv.handle(Event(82, "callback", callback=pack(82, secret, "sv", other.id)))
    assert other.display_code in q.text and q.buttons


class _CountingDict(OrderedDict):  # type: ignore[type-arg]
    """Counts every look at the guard's chats, so a scan of all of them shows."""

    touched = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for key in super().__iter__():
            _CountingDict.touched += 1
            yield key

    def items(self):  # type: ignore[no-untyped-def]
        _CountingDict.touched += len(self)
        return super().items()

    def values(self):  # type: ignore[no-untyped-def]
        _CountingDict.touched += len(self)
        return super().values()

    def keys(self):  # type: ignore[no-untyped-def]
        _CountingDict.touched += len(self)
        return super().keys()


def test_flood_guard_is_constant_work_per_message_and_bounded_memory() -> None:
    """100,000 chats active within one window, then 200,000 more: memory stops growing at the guard's size, and no
    message looks at the other chats (every look at the guard's chats is counted)."""
    import tracemalloc

    from bot.conversation.flood import FloodGuard

    clock = {"t": 0.0}
    guard = FloodGuard(clock=lambda: clock["t"])
    guard._chats = _CountingDict()
    tracemalloc.start()
    try:
        for chat in range(100_000):
            clock["t"] += 0.0001
            assert guard.check(chat) == "ok"
        full = tracemalloc.get_traced_memory()[0]
        for chat in range(100_000, 300_000):
            clock["t"] += 0.0001
            guard.check(chat)
        grown = tracemalloc.get_traced_memory()[0] - full
    finally:
        tracemalloc.stop()
    assert grown < full // 2, (full, grown)  # bounded: the former guard kept every chat of the window (~3 × full)
    assert len(guard._chats) <= guard.size and _CountingDict.touched == 0  # no scan of all chats, ever
    replies = [guard.check(299_999) for _ in range(25)]
    assert "warn" in replies and replies[-1] == "drop"  # a flooding chat is still held back among them


async def test_feedback_replies_are_seen_only_by_the_sender_and_guesses_are_counted(
    settings, kb, matcher, engine
) -> None:  # type: ignore[no-untyped-def]
    from bot.feedback import tickets

    async with session_scope(engine) as s:
        fb = await tickets.create(s, chat_id=83, category="khac", text="Hỏi về lệ phí")
        fb.reply, number = "Lệ phí là 50.000 đồng", fb.tracking_no
    assert len(number) == len("GY-") + 10
    conv = Conversation(Services(settings, kb, matcher, engine))
    [other] = await conv.handle(Event(84, "command", command="gopy", args=number))
    assert "50.000" not in other.text and number not in other.text
    [mine] = await conv.handle(Event(83, "command", command="gopy", args=number))
    assert "50.000" in mine.text
    for _ in range(6):
        await conv.handle(Event(85, "command", command="gopy", args="GY-ABC123"))
    async with session_scope(engine) as s:
        rows = (await s.exec(select(VerificationAttempt).where(VerificationAttempt.scope == "feedback"))).all()
    assert len(rows) == 7 and all(r.key in ("chat:84", "chat:85") for r in rows)
