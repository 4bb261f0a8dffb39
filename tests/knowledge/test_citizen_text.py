"""What a citizen reads is citizen text: no sentence about the knowledge base's own doubts, sources or to-dos.

Every card of every procedure is rendered (each facet's answer, the default answer and the full card), nationally
and for the provinces that have overlays; maintainer wording (kept in `maintainer_notes`) must not appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.replies.cards import FACETS, answer, full_card, to_plain
from knowledge.loader import KnowledgeBase, load_knowledge
from knowledge.schema import Procedure
from tests.conftest import ROOT

PROCEDURES = ROOT / "knowledge" / "procedures"

MAINTAINER_WORDING = [
    r"chưa (được )?xác minh",
    r"chưa xác nhận",
    r"chưa tìm thấy",
    r"chưa đối chiếu",
    r"chưa đọc",
    r"không đọc được",
    r"nên để trống|trường mã để trống|\bmã\b[^.;\n]{0,60}để trống",
    r"\bnguồn (tham khảo|tổng hợp|thứ cấp|tin)\b|\b(một số|nhiều|các|một) nguồn\b",
    r"theo nguồn|(lấy|trích) (từ|theo) nguồn",
    r"crawl",
    r"cần kiểm tra lại",
    r"kiểm tra lại mức",
    r"\bTODO\b|\bFIXME\b|\bTBD\b|\bXXX\b",
    r"mã (thủ tục|mới)[^.;\n]{0,80}\bchưa\b",
    r"thứ cấp",
    r"bên thứ ba",
    r"báo chí",
    r"theo hiểu biết",
    r"Cổng DVCQG",
    r"dữ liệu (thủ tục|của dự án)|danh mục của dự án",
    r"trang thủ tục có thể",
    r"\bbản ghi (cập nhật|trên Cổng|của Cổng)",
    r"generic",
    # English words that would only come from a maintainer's note or a leaked field value
    r"\b(the|and|of|is|not|source|sources|check|verify|verified|unverified|unknown|pending|draft|maintainer|"
    r"null|none|true|false)\b",
]
PATTERN = re.compile("|".join(f"(?:{p})" for p in MAINTAINER_WORDING), re.IGNORECASE)


def cards(proc: Procedure) -> Iterator[tuple[str, str]]:
    yield "full_card", full_card(proc)
    yield "answer", answer(proc, None)
    for facet in FACETS:
        yield facet, answer(proc, facet)


def maintainer_wording(kb: KnowledgeBase) -> list[str]:
    found = []
    for proc in kb.procedures:
        for what, html in cards(proc):
            for m in PATTERN.finditer(to_plain(html)):
                start = max(0, m.start() - 60)
                found.append(
                    f"{proc.id} ({kb.province or 'national'}, {what}): …{to_plain(html)[start : m.end() + 40]}…"
                )
    return found


def provinces_to_check() -> list[str | None]:
    """National, every province with overlays, and one without (the 'no local rule' sentences)."""
    folder = ROOT / "knowledge" / "provinces"
    if not folder.is_dir():
        return [None]
    with_overlays = sorted(p.name for p in folder.iterdir() if p.is_dir())
    return [None, *with_overlays, "cao-bang"]


@pytest.mark.parametrize("province", provinces_to_check())
def test_cards_carry_no_maintainer_wording(province: str | None) -> None:
    kb = load_knowledge(PROCEDURES, province)
    assert not kb.problems, kb.problems[:5]
    found = maintainer_wording(kb)
    assert not found, "\n".join(found[:20])


def test_the_check_catches_maintainer_wording(tmp_path: Path) -> None:
    """The example of the issue: a doubt about the procedure code in an answer card."""
    text = (PROCEDURES / "giay-phep-lai-xe" / "gplx.doi.yaml").read_text(encoding="utf-8")
    doubt = "Mã thủ tục sau khi chuyển sang Bộ Công an chưa tìm thấy chắc chắn trên Cổng Dịch vụ công nên để trống."
    assert doubt in text  # kept for maintainers
    root = tmp_path / "procedures"
    (root / "giay-phep-lai-xe").mkdir(parents=True)
    leaked = text.replace("\nnotes:\n", f"\nnotes:\n  - {doubt}\n", 1)
    assert leaked != text
    (root / "giay-phep-lai-xe" / "gplx.doi.yaml").write_text(leaked, encoding="utf-8")
    kb = load_knowledge(root)
    assert not kb.problems, kb.problems
    found = maintainer_wording(kb)
    assert found and all("gplx.doi" in f for f in found)
    assert any("để trống" in f for f in found)


@pytest.mark.parametrize(
    "text",
    [
        "Mức phí chưa xác nhận được.",
        "Thời hạn chưa được xác minh.",
        "Mã thủ tục mới trên Cổng Dịch vụ công quốc gia chưa có.",
        "Theo nguồn tham khảo.",
        "Một số nguồn nêu thời hạn ngắn hơn.",
        "Mã thủ tục chưa tìm thấy chắc chắn trên Cổng Dịch vụ công nên để trống.",
        "TODO: số mẫu",
        "source: dantri",
    ],
)
def test_each_kind_of_maintainer_wording_is_caught(text: str) -> None:
    assert PATTERN.search(text)


@pytest.mark.parametrize(
    "text",
    [
        "Giấy tờ về nguồn gốc sử dụng đất",
        "Trẻ em không có nguồn nuôi dưỡng; bếp một chiều, nguồn nước.",
        "Phần ghi về cha để trống.",
        "Anh/Chị xem số tiền trên biên lai khi nộp.",
        "Người chưa thành niên phải có ý kiến đồng ý của cha, mẹ.",
        "Đăng nhập bằng VNeID hoặc eTax Mobile.",
    ],
)
def test_citizen_text_is_not_mistaken_for_maintainer_wording(text: str) -> None:
    assert not PATTERN.search(text)
