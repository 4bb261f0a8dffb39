"""Questions about procedures we do not explain yet: a pointer card from the national index, never the card of
another procedure of ours."""

from __future__ import annotations

import pytest

from bot.conversation.core import Conversation
from bot.replies.buttons import unpack
from bot.replies.events import Event
from bot.services import Services
from knowledge.matcher import Matcher
from knowledge.national import NationalIndex, load_national

NO_GUIDE = "chưa có hướng dẫn chi tiết"


@pytest.fixture(scope="session")
def national() -> NationalIndex:
    return load_national()


@pytest.fixture
def conv(settings, kb, engine, national) -> Conversation:  # type: ignore[no-untyped-def]
    return Conversation(Services(settings, kb, Matcher(kb.procedures, national=national), engine, national))


async def test_dissolving_a_business_is_not_answered_with_founding_one(conv: Conversation) -> None:
    [reply] = await conv.handle(Event(7001, "text", text="giai the doanh nghiep tu nhan can ho so gi"))
    assert "Đăng ký thành lập doanh nghiệp tư nhân" not in reply.text
    assert NO_GUIDE in reply.text or "có phải Anh/Chị hỏi về" in reply.text


async def test_a_national_procedure_picked_from_the_list_gets_its_pointer_card(conv: Conversation) -> None:
    [pick] = await conv.handle(Event(7002, "text", text="dang ky huong luong huu can nhung gi"))
    national = [
        b for row in pick.buttons for b in row if (unpack(b.data or "", 7002, conv.services.secret) or [""])[0] == "nx"
    ]
    assert national, [b.text for row in pick.buttons for b in row]
    [card] = await conv.handle(Event(7002, "callback", callback=national[0].data))
    assert NO_GUIDE in card.text and "dichvucong.gov.vn" in card.text


async def test_a_curated_question_still_gets_its_card(conv: Conversation) -> None:
    [reply] = await conv.handle(Event(7003, "text", text="lam giay khai sinh cho con can gi"))
    assert "Đăng ký khai sinh" in reply.text and NO_GUIDE not in reply.text


async def test_a_forged_national_code_is_a_stale_button(conv: Conversation) -> None:
    from bot.replies.buttons import pack

    [reply] = await conv.handle(Event(7004, "callback", callback=pack(7004, conv.services.secret, "nx", "9.999999")))
    assert reply.toast and not reply.text
