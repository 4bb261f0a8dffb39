"""The checklist fitted to the citizen's situation: the entry's situation questions with buttons, then the papers
those answers need, ticked like the plain checklist. The entries get `situations` and `applies_when` from the
knowledge base; here a small procedure carries them, set the way the schema's optional fields will be read."""

from __future__ import annotations

from typing import Any

from bot.conversation import guide
from bot.conversation.core import Conversation
from bot.replies import messages as m
from bot.replies import phrases as t
from bot.replies.events import Event, Reply
from bot.services import Services
from knowledge.loader import KnowledgeBase
from knowledge.schema import Procedure

BIRTH = "ho-tich.dang-ky-khai-sinh"
SITUATIONS = [
    {
        "id": "noi-sinh",
        "question": "Bé sinh ở đâu?",
        "options": [
            {"value": "co-so-y-te", "label": "Ở bệnh viện, trạm y tế"},
            {"value": "khac", "label": "Ở nhà, nơi khác"},
        ],
    },
    {
        "id": "nguoi-nop",
        "question": "Ai đi đăng ký?",
        "options": [{"value": "cha-me", "label": "Cha hoặc mẹ"}, {"value": "uy-quyen", "label": "Người được ủy quyền"}],
    },
]
NEEDS = {"Giấy chứng sinh": {"noi-sinh": ["co-so-y-te"]}, "Văn bản ủy quyền": {"nguoi-nop": ["uy-quyen"]}}


def _with_situations(proc: Procedure) -> Procedure:
    """The procedure with the optional fields the schema will have (set as attributes: the guide reads getattr)."""
    docs = []
    for d in proc.documents:
        doc = d.model_copy()
        need: dict[str, Any] = next((v for k, v in NEEDS.items() if d.name.startswith(k)), {})
        object.__setattr__(doc, "applies_when", need)
        docs.append(doc)
    fitted = proc.model_copy(update={"documents": docs})
    object.__setattr__(fitted, "situations", SITUATIONS)
    return fitted


def _press(reply: Reply, label: str) -> str:
    found = [b.data for row in reply.buttons for b in row if label in b.text]
    assert found and found[0], (label, [b.text for row in reply.buttons for b in row])
    return found[0]


async def test_the_checklist_asks_the_situation_then_lists_the_citizens_own_papers(
    settings, kb, matcher, engine
) -> None:  # type: ignore[no-untyped-def]
    fitted = _with_situations(kb.get(BIRTH))
    mine = KnowledgeBase(procedures=[fitted if p.id == BIRTH else p for p in kb.procedures])
    conv = Conversation(Services(settings, mine, matcher, engine))
    [card] = await conv.handle(Event(31, "text", text="lam giay khai sinh cho con can gi"))
    [q1] = await conv.handle(Event(31, "callback", callback=_press(card, m.CHECKLIST_BUTTON)))
    assert "Câu 1/2: Bé sinh ở đâu?" in q1.text and not q1.edit
    assert [b.text for row in q1.buttons for b in row] == ["Ở bệnh viện, trạm y tế", "Ở nhà, nơi khác", t.GUIDE_SKIP]
    [q2] = await conv.handle(Event(31, "callback", callback=_press(q1, "bệnh viện")))
    assert "Câu 2/2: Ai đi đăng ký?" in q2.text and q2.edit
    answered = await conv.respond(Event(31, "callback", callback=_press(q2, "Cha hoặc mẹ")))
    [listing] = answered.replies
    assert answered.turn.procedure == BIRTH and answered.turn.facet == "documents"
    names = [b.text for row in listing.buttons for b in row]
    assert any("Giấy chứng sinh" in n for n in names) and not any("Văn bản ủy quyền" in n for n in names)
    assert "Ở bệnh viện, trạm y tế; Cha hoặc mẹ" in listing.text and "Còn thiếu" in listing.text
    [ticked] = await conv.handle(Event(31, "callback", callback=listing.buttons[0][0].data))
    assert ticked.edit and ticked.buttons[0][0].text.startswith("☑")
    assert len(ticked.buttons) == len(listing.buttons)  # the same fitted list, one paper ticked

    other = await conv.handle(Event(32, "callback", callback=_press(card, m.CHECKLIST_BUTTON)))
    assert other[0].toast  # another chat cannot press this chat's buttons


async def test_skipping_the_questions_lists_every_paper(settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    fitted = _with_situations(kb.get(BIRTH))
    mine = KnowledgeBase(procedures=[fitted if p.id == BIRTH else p for p in kb.procedures])
    conv = Conversation(Services(settings, mine, matcher, engine))
    [card] = await conv.handle(Event(33, "text", text="đăng ký khai sinh cần gì"))
    [q1] = await conv.handle(Event(33, "callback", callback=_press(card, m.CHECKLIST_BUTTON)))
    [listing] = await conv.handle(Event(33, "callback", callback=_press(q1, t.GUIDE_SKIP)))
    assert len([b for row in listing.buttons for b in row]) == len(fitted.documents)


def test_answers_travel_in_the_buttons_and_old_ones_are_checked(kb) -> None:  # type: ignore[no-untyped-def]
    fitted = _with_situations(kb.get(BIRTH))
    assert guide.parse(fitted, "01") == {"noi-sinh": "co-so-y-te", "nguoi-nop": "uy-quyen"}
    assert guide.parse(fitted, "2") is None and guide.parse(fitted, "000") is None and guide.parse(fitted, "x") is None
    home = guide.fitted(fitted, {"noi-sinh": "khac", "nguoi-nop": "cha-me"})
    assert not any(fitted.documents[i].name.startswith(("Giấy chứng sinh", "Văn bản ủy quyền")) for i in home)
    assert guide.situations(kb.get("cu-tru.dang-ky-tam-tru")) == []  # an entry without them: the plain checklist


def test_the_knowledge_base_has_situations_for_the_procedures_whose_papers_depend_on_the_case(kb) -> None:  # type: ignore[no-untyped-def]
    from knowledge.schema import Procedure as Schema

    fitted = [p for p in kb.procedures if p.situations]
    assert len(fitted) >= 15
    for proc in fitted:
        assert 1 <= len(proc.situations) <= 3 and all(2 <= len(s.options) <= 4 for s in proc.situations)
        assert any(d.applies_when for d in proc.documents), proc.id
    raw = kb.get(BIRTH).model_dump(mode="json", exclude={"province"})
    raw["documents"][1]["applies_when"] = {"noi-khac": ["x"]}
    import pytest

    with pytest.raises(ValueError, match="unknown situation"):
        Schema.model_validate(raw)
    assert kb.get(BIRTH).processing_time.cutoff_hour == 15
