"""The pointer card for a national procedure we do not explain yet (bot/replies/pointer.py)."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest

from bot.replies.pointer import TELEGRAM_LIMIT, money, pointer_card
from knowledge.national import Detail, NationalIndex, NationalProcedure, Variant, load_national


def _proc(**extra: object) -> NationalProcedure:
    data: dict[str, object] = {
        "code": "1.014171",
        "portal_id": "019d-abc",
        "name": "Hưởng lương hưu đối với người tham gia bảo hiểm xã hội bắt buộc",
        "fields": ["Bảo hiểm xã hội"],
        "agencies": ["Bảo hiểm xã hội tỉnh"],
        "levels": ["tinh"],
        "targets": ["Công dân Việt Nam"],
    }
    data.update(extra)
    return NationalProcedure.model_validate(data)


def _detail(**extra: object) -> Detail:
    data: dict[str, object] = {
        "code": "1.014171",
        "updated": "2026-04-16",
        "documents": [
            {
                "title": "Giấy tờ phải nộp",
                "items": [
                    {"name": "- Sổ bảo hiểm xã hội", "original": 1, "copy": 0},
                    {"name": "Trường hợp nộp qua bưu điện thì gửi kèm bản sao", "original": 0, "copy": 0},
                    {"name": "Giấy ủy quyền", "original": 0, "copy": 1},
                ],
            }
        ],
        "times": [
            {"method": "DIRECT", "value": 10, "unit": "WORKING_DAY"},
            {"method": "ONLINE", "value": 10, "unit": "WORKING_DAY"},
        ],
        "fees": [{"method": "DIRECT", "kind": "FEE", "amount": 50000}],
        "methods": ["DIRECT", "ONLINE"],
        "full_online": False,
    }
    data.update(extra)
    return Detail.model_validate(data)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.seen: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)
        self.seen.add(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open.pop() == tag, tag


def _telegram_html(text: str) -> None:
    """Only the tags Telegram takes, balanced, and never longer than one message."""
    parser = _Tags()
    parser.feed(text)
    assert not parser.open and parser.seen <= {"b", "i", "a"}, parser.seen
    assert len(text) <= TELEGRAM_LIMIT


def test_a_card_without_the_full_record_says_what_we_know_and_where_to_look() -> None:
    card = pointer_card(_proc(), hotline="1900 1234", crawled=dt.date(2026, 7, 18))
    _telegram_html(card)
    assert "Hưởng lương hưu đối với người tham gia bảo hiểm xã hội bắt buộc" in card and "1.014171" in card
    assert "chưa có hướng dẫn chi tiết" in card
    assert "Bảo hiểm xã hội tỉnh (cấp tỉnh)" in card
    assert (
        'href="https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=019d-abc"' in card
    )
    assert "1900 1234" in card and "18/07/2026" in card
    assert "Theo Cổng Dịch vụ công" not in card  # no record, no portal figures
    assert "Anh/Chị" in card and card.count("Dạ") == 1


def test_the_full_record_is_shown_as_the_portals_with_its_date() -> None:
    card = pointer_card(_proc(), hotline="1900 1234", detail=_detail())
    _telegram_html(card)
    assert "Theo Cổng Dịch vụ công quốc gia" in card and "16/04/2026" in card and "chưa kiểm tra lại" in card
    assert "1. Sổ bảo hiểm xã hội — 1 bản chính" in card and "2. Giấy ủy quyền — 1 bản sao" in card
    assert "Trường hợp nộp qua bưu điện" not in card  # the portal's notes are not papers
    assert "Trực tiếp, Trực tuyến: 10 ngày làm việc" in card
    assert "50.000 đồng" in card
    assert "Nộp trực tuyến:</b> có" in card


def test_everything_from_the_portal_is_escaped() -> None:
    proc = _proc(name='Cấp <giấy> & "phép"', agencies=["Sở <Y> tế"])
    card = pointer_card(
        proc, hotline="<1900>", detail=_detail(documents=[{"items": [{"name": "<script>", "original": 1}]}])
    )
    _telegram_html(card)
    assert "<giấy>" not in card and "&lt;giấy&gt; &amp; &quot;phép&quot;" in card
    assert "&lt;script&gt;" in card and "Sở &lt;Y&gt; tế" in card and "&lt;1900&gt;" in card


def test_a_province_deployment_points_to_its_own_variant() -> None:
    local = Variant(
        code="1.100001", portal_id="019d-local", province="Bắc Ninh", name="…", agencies=("Sở Nội vụ Bắc Ninh",)
    )
    card = pointer_card(_proc(local=local), hotline="1900")
    assert "mã của Bắc Ninh: 1.100001" in card and "ma_thu_tuc=019d-local" in card
    assert "Sở Nội vụ Bắc Ninh" in card


def test_a_long_record_is_cut_but_the_link_and_hotline_stay() -> None:
    long_item = {"name": "Giấy tờ rất dài " * 40, "original": 1}
    detail = _detail(
        documents=[{"items": [long_item] * 40}],
        fees=[
            {"method": m, "amount": 1000 * i, "text": "ghi chú " * 60}
            for i, m in enumerate(["DIRECT", "ONLINE", "POSTAL"] * 10, 1)
        ],
    )
    card = pointer_card(_proc(), hotline="1900 1234", detail=detail, crawled=dt.date(2026, 7, 18))
    _telegram_html(card)
    assert "ma_thu_tuc=019d-abc" in card and "1900 1234" in card
    assert "và 28 mục khác" in card  # twelve papers listed, the rest counted


def test_money_reads_as_offices_write_it() -> None:
    assert money(50000) == "50.000 đồng" and money(1250000) == "1.250.000 đồng"


@pytest.fixture(scope="module")
def national() -> NationalIndex:
    return load_national()


def test_every_committed_full_record_makes_a_valid_card(national: NationalIndex) -> None:
    codes = [c for c in national.details if national.get(c) is not None]
    assert len(codes) >= 80
    for code in codes:
        proc = national.get(code)
        assert proc is not None
        card = pointer_card(proc, hotline="1900 0000", detail=national.detail(code), crawled=national.crawled)
        _telegram_html(card)
        assert re.search(r"\d{2}/\d{2}/\d{4}", card)
