"""The slip's signed QR code (finding 4 of the second review): strangers' wrong guesses can lock the digits path of a
code, never its owner out. The lookup flow with signed, wrongly signed and old /start payloads."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from bot.cases import verification
from bot.cases.qr import PREFIX, deep_link, read_payload, slip_payload
from bot.conversation.core import Conversation
from bot.conversation.flood import FloodGuard
from bot.replies import messages as m
from bot.replies.events import Event
from bot.services import Services
from bot.storage.db import session_scope
from bot.storage.models import Subscription
from knowledge.codes import encode_payload
from tests.bot.cases.test_verification import CODE, START, Clock, _case


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    c = Clock(START)
    monkeypatch.setattr(verification, "utcnow", c)
    return c


def _conv(settings, kb, matcher, engine, **overrides) -> Conversation:  # type: ignore[no-untyped-def]
    return Conversation(Services(settings.model_copy(update=overrides), kb, matcher, engine), flood=FloodGuard(10**9))


async def test_strangers_lock_the_digits_but_the_slip_opens_the_case(settings, kb, matcher, engine, clock) -> None:  # type: ignore[no-untyped-def]
    """The attack: wrong guesses from throwaway chats block the code for its owner, renewed for ever."""
    await _case(engine, settings, birth_year=1984)
    conv = _conv(settings, kb, matcher, engine, verify_by="birth_year")
    for stranger in (11, 12, 13):  # a week apart, so that the weekly cap never stops them: the third one locks
        await conv.handle(Event(stranger, "command", command="tracuu", args=CODE))
        await conv.handle(Event(stranger, "text", text="1900"))
        clock.now += dt.timedelta(days=8)
    owner = 20
    [locked] = await conv.handle(Event(owner, "command", command="tracuu", args=CODE))
    assert locked.text == m.CODE_LOCKED.format(hotline=settings.hotline)
    payload = slip_payload(CODE, settings.secret_key.get_secret_value())
    [card] = await conv.handle(Event(owner, "command", command="start", args=payload))
    assert f"Hồ sơ {CODE}" in card.text and card.buttons  # no digits asked
    [followed] = await conv.handle(Event(owner, "callback", callback=card.buttons[0][0].data))
    assert followed.toast == m.FOLLOWED_TOAST
    async with session_scope(engine) as s:
        assert (await s.exec(select(Subscription).where(Subscription.chat_id == owner))).one().active
    [still] = await conv.handle(Event(owner + 1, "command", command="tracuu", args=CODE))
    assert still.text == locked.text  # the digits path stays locked until staff unlock it


@pytest.mark.parametrize("how", ["tampered", "other secret", "old payload", "another code's tag"])
async def test_a_payload_that_is_not_validly_signed_asks_for_the_digits(settings, kb, matcher, engine, how) -> None:  # type: ignore[no-untyped-def]
    await _case(engine, settings)
    secret = settings.secret_key.get_secret_value()
    good = slip_payload(CODE, secret)
    payload = {
        "tampered": good[:-1] + ("A" if good[-1] != "A" else "B"),
        "other secret": slip_payload(CODE, "another-secret-of-forty-characters-xxxxx"),
        "old payload": encode_payload(CODE),
        "another code's tag": good.replace("0007-", "0008-", 1)[: len(good)],
    }[how]
    assert payload
    conv = _conv(settings, kb, matcher, engine)
    [ask] = await conv.handle(Event(30, "command", command="start", args=payload))
    assert "4 số cuối" in ask.text and CODE not in ask.text  # read as the plain code it names
    [answer] = await conv.handle(Event(30, "text", text="9876"))
    if how == "another code's tag":  # 0008, which has no case
        assert "chưa khớp" in answer.text
    else:
        assert f"Hồ sơ {CODE}" in answer.text


async def test_a_signed_payload_of_no_case_looks_like_any_other_code(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    conv = _conv(settings, kb, matcher, engine)
    payload = slip_payload("000.00.99.H99-990101-9999", settings.secret_key.get_secret_value())
    [ask] = await conv.handle(Event(31, "command", command="start", args=payload))
    assert "4 số cuối" in ask.text
    [garbage] = await conv.handle(Event(32, "command", command="start", args=PREFIX + "x"))
    assert garbage.text == m.ASK_CODE


@given(seq=st.integers(0, 99_999), agency=st.integers(0, 99), day=st.dates(dt.date(2020, 1, 1), dt.date(2099, 12, 31)))
def test_signed_payloads_fit_telegram_and_name_their_code(seq: int, agency: int, day: dt.date) -> None:
    code = f"000.00.{agency:02d}.H57-{day:%y%m%d}-{seq:04d}"
    payload = slip_payload(code, "k" * 32)
    assert len(payload) <= 64 and all(ch.isalnum() or ch in "_-" for ch in payload)
    assert read_payload(payload, "k" * 32).signed and read_payload(payload, "k" * 32).code == code
    assert not read_payload(payload, "j" * 32).signed
    assert deep_link(code, "tthc_bot", "k" * 32).endswith(payload)
