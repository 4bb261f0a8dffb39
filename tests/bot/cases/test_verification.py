"""Brute force of the verification digits (findings 2 and 3 of the second review), through the conversation, with the
clock of the attempt limits moved forward as an attacker would wait: the patient attacker of one chat, many chats on
one code, the alerts staff get, and the staff unlock."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

import pytest
from sqlmodel import select

from bot.cases import verification
from bot.cases.rules import NewCase, create_case, get_case
from bot.cases.verification import LIMITS, TARGET, derive
from bot.conversation.core import Conversation
from bot.conversation.flood import FloodGuard
from bot.replies.events import Event
from bot.services import Services
from bot.storage.db import session_scope
from bot.storage.models import CodeGuard, VerificationAlert, VerificationAttempt

CODE = "000.00.15.H57-261114-0007"
START = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
STEP = dt.timedelta(hours=2)  # how long the attacker waits when refused


class Clock:
    """The time the attempt limits see; the attacker moves it forward instead of waiting."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(START)
    monkeypatch.setattr(verification, "utcnow", c)
    return c


async def _case(engine, settings, *, phone: str = "0912349876", birth_year: int = 1987) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        await create_case(
            session=s,
            secret=settings.secret_key.get_secret_value(),
            new=NewCase(
                code=CODE,
                procedure_id="cu-tru.dang-ky-tam-tru",
                agency="Công an xã Phú Thượng",
                applicant_name="Nguyễn Văn An",
                phone=phone,
                birth_year=birth_year,
                received_at=START - dt.timedelta(days=3),
                appointment_date=dt.date(2026, 12, 20),
            ),
        )


def _conversation(settings, kb, matcher, engine, **overrides) -> Conversation:  # type: ignore[no-untyped-def]
    services = Services(settings.model_copy(update=overrides), kb, matcher, engine)
    return Conversation(services, flood=FloodGuard(limit=10**9))  # a patient attacker is no flood


async def _attack(
    conv: Conversation, clock: Clock, chats: list[int], guesses: Iterable[str], *, days: int
) -> tuple[int, str | None]:
    """Guess from `chats` in turn, waiting (moving the clock by STEP) whenever refused, for at most `days`: how many
    guesses were compared with the answer, and the right one if it was found."""
    end = clock.now + dt.timedelta(days=days)
    turn = 0
    pending = iter(guesses)
    guess = next(pending, None)
    while guess is not None and clock.now < end:
        chat = chats[turn % len(chats)]
        turn += 1
        [ask] = await conv.handle(Event(chat, "command", command="tracuu", args=CODE))
        if "vui lòng nhập" not in ask.text:  # refused: wait, unless the code is locked for good
            if await _locked(conv):
                break
            clock.now += STEP
            continue
        before = await _compared(conv)
        [answer] = await conv.handle(Event(chat, "text", text=guess))
        if f"Hồ sơ {CODE}" in answer.text:
            return before + 1, guess
        if await _compared(conv) > before:
            guess = next(pending, None)
        else:  # refused without being compared: wait, then make the same guess again
            clock.now += STEP
    return await _compared(conv), None


async def _locked(conv: Conversation) -> bool:
    async with session_scope(conv.services.engine) as s:
        found = await verification.block(s, chat_id=0, code=CODE, verify_by=conv.services.settings.verify_by)
    return found is not None and found.locked


async def _compared(conv: Conversation) -> int:
    """Guesses compared with the answer: one attempt row each (a refused guess is not compared, not counted)."""
    async with session_scope(conv.services.engine) as s:
        rows = (await s.exec(select(VerificationAttempt).where(VerificationAttempt.scope == "code"))).all()
    return len(rows)


async def _guard(engine) -> CodeGuard:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        return (await s.exec(select(CodeGuard))).one()


async def _alerts(engine) -> list[str]:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        return [a.reason for a in (await s.exec(select(VerificationAlert).order_by(VerificationAlert.id))).all()]


def test_limits_follow_from_one_target_and_birth_years_are_much_tighter() -> None:
    phone, year = LIMITS["phone_last4"], LIMITS["birth_year"]
    assert (phone.code_burst, phone.code_daily, phone.code_weekly, phone.code_lock) == (5, 15, 75, 300)
    assert (year.code_burst, year.code_daily, year.code_weekly, year.code_lock) == (2, 2, 2, 3)
    assert (phone.chat_daily, year.chat_daily) == (20, 2)
    for limits in (phone, year):  # an attacker's chance before the lock is the target
        assert limits.code_lock / limits.values == pytest.approx(TARGET)
        assert limits.code_burst <= limits.code_daily <= limits.code_weekly <= limits.code_lock
    assert phone.code_lock >= 28 * phone.code_daily / 1.4  # the lock takes weeks, not a day
    assert derive(10_000, target=0.01).code_lock == 100


async def test_birth_year_brute_force_from_one_chat_ends_in_a_lock(settings, kb, matcher, engine, clock) -> None:  # type: ignore[no-untyped-def]
    """Finding 2: 5 tries per 15 minutes forever found any birth year within about four hours."""
    await _case(engine, settings, birth_year=2001)
    conv = _conversation(settings, kb, matcher, engine, verify_by="birth_year")
    tried, found = await _attack(conv, clock, [901], (str(y) for y in range(1925, 2025)), days=60)
    assert found is None and tried == LIMITS["birth_year"].code_lock == 3
    guard = await _guard(engine)
    assert guard.locked_at is not None and guard.locked_at - START >= dt.timedelta(days=6)  # after a week's cap
    assert "locked" in await _alerts(engine)


async def test_phone_digits_from_one_patient_chat_end_in_a_lock_and_alert_staff(  # type: ignore[no-untyped-def]
    settings, kb, matcher, engine, clock, caplog
) -> None:
    """Finding 3: 480 tries a day per code, no daily cap, nobody alerted: any code fell within 20.8 days."""
    await _case(engine, settings, phone="0912340420")  # the 421st guess in order
    conv = _conversation(settings, kb, matcher, engine)
    caplog.set_level(logging.WARNING, logger="bot.verification")
    tried, found = await _attack(conv, clock, [987654321], (f"{n:04d}" for n in range(10_000)), days=60)
    assert found is None and tried == LIMITS["phone_last4"].code_lock == 300
    guard = await _guard(engine)
    assert guard.locked_at is not None and guard.locked_at - START >= dt.timedelta(days=21)
    assert set(await _alerts(engine)) == {"several_days", "locked"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("verification alert: locked" in w for w in warnings)
    for w in warnings:  # no code, no digits, no chat id in the log
        assert "0420" not in w and "H57" not in w and "261114" not in w and "987654321" not in w


async def test_many_chats_on_one_code_share_its_limits_and_alert_staff(settings, kb, matcher, engine, clock) -> None:  # type: ignore[no-untyped-def]
    """N chats attack a code together: the code's limits count them all, and staff hear of it the same day."""
    await _case(engine, settings, phone="0912349999")
    conv = _conversation(settings, kb, matcher, engine)
    chats = list(range(1000, 1050))
    tried, found = await _attack(conv, clock, chats, (f"{n:04d}" for n in range(10_000)), days=1)
    assert found is None and tried <= 2 * LIMITS["phone_last4"].code_daily  # one day's cap, twice at its edges
    assert "several_chats" in await _alerts(engine)
    async with session_scope(engine) as s:
        [(alert, case)] = await verification.open_alerts(s)
    assert alert.reason == "several_chats" and case.display_code == CODE and alert.chats >= 3


async def test_the_limits_hold_for_concurrent_attempts_under_the_guard_lock(settings, engine, clock) -> None:  # type: ignore[no-untyped-def]
    """Attempts that passed the first check at the same moment are checked again with the code's row locked."""
    await _case(engine, settings)
    limit = LIMITS["phone_last4"].code_burst
    for chat in range(limit + 5):
        async with session_scope(engine) as s:
            await verification.verify(s, chat_id=2000 + chat, code=CODE, answer="0000", verify_by="phone_last4")
    assert (await _guard(engine)).failures == limit


async def test_staff_unlock_lets_the_owner_type_the_digits_again(settings, kb, matcher, engine, clock) -> None:  # type: ignore[no-untyped-def]
    await _case(engine, settings, birth_year=1990)
    conv = _conversation(settings, kb, matcher, engine, verify_by="birth_year")
    await _attack(conv, clock, [903, 904], (str(y) for y in range(1925, 1950)), days=30)
    async with session_scope(engine) as s:
        assert (await verification.block(s, chat_id=905, code=CODE, verify_by="birth_year")).locked  # type: ignore[union-attr]
        done = await verification.unlock(s, CODE.replace(".", " "), by="cli")
        assert done is not None and done.was_locked and done.failures_cleared == 3 and done.alerts_resolved >= 1
        assert await verification.unlock(s, "000.00.15.H57-261114-0999", by="cli") is None  # no such case
    async with session_scope(engine) as s:
        assert await verification.open_alerts(s) == []
        assert await verification.block(s, chat_id=905, code=CODE, verify_by="birth_year") is None
    conv.flood = FloodGuard(limit=10**9)
    [ask] = await conv.handle(Event(905, "command", command="tracuu", args=CODE))
    assert "năm sinh" in ask.text
    [card] = await conv.handle(Event(905, "text", text="1990"))
    assert f"Hồ sơ {CODE}" in card.text


async def test_unlock_command(settings, kb, engine, clock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`tthc-bot cases unlock CODE`, on its own SQLite file."""
    import asyncio

    from bot.settings import Settings
    from bot.storage.db import make_engine
    from bot.storage.migrate import upgrade
    from tests.helpers import cli

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    await asyncio.to_thread(upgrade, Settings(_env_file=None), url=url)  # type: ignore[call-arg]
    local = Settings(database_url=url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    own = make_engine(local)
    try:
        await _case(own, settings, birth_year=1990)
        for chat in range(3):
            async with session_scope(own) as s:
                clock.now += dt.timedelta(days=8)
                await verification.verify(s, chat_id=chat, code=CODE, answer="1900", verify_by="birth_year")
        assert (await _guard(own)).locked_at is not None
        env = {"DATABASE_URL": url, "DATA_DIR": str(tmp_path)}
        done = await asyncio.to_thread(cli, "cases", "unlock", CODE.lower(), env=env)
        assert done.returncode == 0, done.stderr
        assert f"{CODE}: unlocked (was locked); 3 failed attempt(s) forgotten" in done.stdout
        assert (await _guard(own)).locked_at is None
        missing = await asyncio.to_thread(cli, "cases", "unlock", "000.00.15.H57-261114-0999", env=env)
        assert missing.returncode == 1 and "no case" in missing.stderr
    finally:
        await own.dispose()
    async with session_scope(engine) as s:
        assert await get_case(s, CODE) is None  # the suite's database was not touched
