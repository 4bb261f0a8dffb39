"""Answer cards: the "Căn cứ" line names the sources of what the card shows; maintainer notes never show."""

from __future__ import annotations

import re

from bot.replies.cards import FACETS, answer, facet_sources, footer, full_card, to_plain
from knowledge.loader import KnowledgeBase


def _grounds(text: str) -> str:
    m = re.search(r"Căn cứ: (.*?) Thông tin cập nhật ngày", to_plain(text), re.S)
    assert m, text
    return m.group(1)


def test_the_grounds_line_names_the_sources_of_the_facet_shown(kb: KnowledgeBase) -> None:
    proc = kb.get("ho-tich.dang-ky-khai-sinh")
    assert proc is not None
    fee_titles = {s.title for s in facet_sources(proc, "fee")}
    where_titles = {s.title for s in facet_sources(proc, "where")}
    only_fee = sorted(fee_titles - where_titles)
    assert only_fee, "the example needs a source of the fees that is not one of the agency's"
    assert any(t.rstrip(".") in _grounds(answer(proc, "fee")) for t in only_fee)
    assert not any(t.rstrip(".") in _grounds(answer(proc, "where")) for t in only_fee)
    for title in where_titles:
        assert title.rstrip(".") in _grounds(answer(proc, "where"))


def test_every_card_has_grounds_and_the_review_date(kb: KnowledgeBase) -> None:
    for proc in kb.procedures:
        for facet in (None, *FACETS):
            text = answer(proc, facet)
            assert _grounds(text), (proc.id, facet)
            assert proc.last_reviewed.strftime("%d/%m/%Y") in text


def test_a_facet_without_sourced_claims_falls_back_to_the_legal_basis(kb: KnowledgeBase) -> None:
    proc = kb.get("cu-tru.dang-ky-tam-tru")
    assert proc is not None
    assert facet_sources(proc, "how") == []
    assert proc.legal_basis[0].doc.rstrip(".") in to_plain(footer(proc, ["how"]))


def test_maintainer_notes_are_never_shown(kb: KnowledgeBase) -> None:
    shown = 0
    for proc in kb.procedures:
        card = to_plain(full_card(proc)) + "".join(to_plain(answer(proc, f)) for f in FACETS)
        hidden = list(proc.maintainer_notes)
        hidden += [x for x in (proc.agency.maintainer_notes, proc.processing_time.maintainer_notes) if x]
        hidden += [d.maintainer_notes for d in proc.documents if d.maintainer_notes]
        hidden += [f.maintainer_notes for f in proc.fees.items if f.maintainer_notes]
        hidden += [b.maintainer_notes for b in proc.benefits if b.maintainer_notes]
        hidden += [x for x in (proc.fees.maintainer_notes, proc.channels.online.maintainer_notes) if x]
        for note in hidden:
            assert note not in card, (proc.id, note)
            shown += 1
    assert shown > 100  # the migration moved many notes there


def test_an_unknown_amount_set_by_the_province_says_so(kb: KnowledgeBase) -> None:
    proc = kb.get("ho-tich.dang-ky-khai-sinh")
    assert proc is not None
    text = to_plain(answer(proc, "fee"))
    assert "Đăng ký khai sinh quá hạn: mức do HĐND tỉnh quy định" in text
    assert "khác nhau giữa các tỉnh, thành phố; Anh/Chị xem tại Bộ phận Một cửa" in text
