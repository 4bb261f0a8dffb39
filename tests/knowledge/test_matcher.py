"""The matcher: quality on the measuring split of our labelled set, behaviour on hostile input."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from knowledge.codes import decode_payload, encode_payload, find_code, normalize_code
from knowledge.evaluation import evaluate, read_questions
from knowledge.matcher import INTENTS, Matcher
from knowledge.text import clean, fold

DATA = Path(__file__).resolve().parent.parent / "data" / "questions.tsv"

# Issue #4's targets, on the `measure` split (written by a different author than the `tune` split, which
# the weights and thresholds were tuned on).
FLOORS = {"top1": 0.95, "top3": 0.99, "facet": 0.90, "out_of_scope": 0.9, "intents": 0.9}
MAX_CONFIDENT_WRONG = 0.02


def test_question_set_has_the_promised_shape() -> None:
    rows = read_questions(DATA)
    procs = [r for r in rows if not r.expect.startswith("@")]
    assert len(rows) >= 600
    per_proc: dict[str, int] = {}
    for r in procs:
        per_proc[r.expect] = per_proc.get(r.expect, 0) + 1
    assert len(per_proc) == 67 and min(per_proc.values()) >= 6
    share = lambda style: sum(r.style == style for r in procs) / len(procs)  # noqa: E731
    assert share("nodiac") >= 0.30 and share("colloquial") >= 0.20 and share("typo") >= 0.10
    assert sum(r.expect == "@out_of_scope" for r in rows) >= 60
    assert sum(r.expect == "@case_status" for r in rows) >= 20
    assert sum(r.expect in ("@greeting", "@thanks") for r in rows) >= 20
    assert {r.split for r in rows} == {"tune", "measure"}


def test_quality_on_the_measuring_split(matcher: Matcher) -> None:
    report = evaluate(matcher, read_questions(DATA, "measure"))
    summary = report.summary()
    for metric, floor in FLOORS.items():
        assert summary[metric] >= floor, (metric, summary)
    assert summary["confident_wrong"] <= MAX_CONFIDENT_WRONG, summary


def test_reads_questions_however_they_are_typed(matcher: Matcher) -> None:
    cases = {
        "lam cccd can j": ("can-cuoc", "documents"),
        "đổi bằng lái xe ở đâu": ("gplx.doi", "where"),
        "LỆ PHÍ ĐĂNG KÝ KẾT HÔN": ("ho-tich.dang-ky-ket-hon", "fee"),
        unicodedata.normalize("NFD", "đăng ký tạm trú mất mấy ngày"): ("cu-tru.dang-ky-tam-tru", "time"),
        "dang kys khai sinh cho con": ("ho-tich.dang-ky-khai-sinh", "documents"),
        "lamf sor ddor lan ddaauf can gi": ("dat-dai.cap-gcn-lan-dau", "documents"),  # unconverted Telex
        "xoá thường chú mấy ngày thì xong": ("cu-tru.xoa-dang-ky-thuong-tru", "time"),  # ch/tr confusion
        "đăng kí kết hôm mất bao nhiêu tiền": ("ho-tich.dang-ky-ket-hon", "fee"),  # final m/n confusion
        "khai sinh lay trong ngay duoc khong": ("ho-tich.dang-ky-khai-sinh", "time"),  # "trong" is not "chồng"
        "ck em người Trung Quốc, con sinh ở VN làm khai sinh cần gì": (
            "ho-tich.khai-sinh-yeu-to-nuoc-ngoai",
            "documents",
        ),
    }
    for question, (expected, facet) in cases.items():
        u = matcher.understand(question)
        assert u.intent == "procedure", question
        assert u.matches[0].id.startswith(expected), (question, u.matches[:2])
        assert u.facet == facet, question


def test_asking_which_papers_does_not_drag_in_procedures_about_papers(matcher: Matcher) -> None:
    """ "giấy tờ" is in "chứng thực bản sao giấy tờ" and "giấy" in "giấy khai sinh": the question words of a
    documents (or conditions) question must not outweigh the procedure the citizen named."""
    cases = {
        "làm căn cước cần giấy tờ gì": "can-cuoc.cap-the",
        "làm hộ chiếu cần những giấy tờ gì": "xuat-nhap-canh.ho-chieu-pho-thong",
        "lam can cuoc ho so gom nhung gi": "can-cuoc.cap-the",  # "gồm" would be repaired to "gốc"
        "khai sinh cần giấy tờ j": "ho-tich.dang-ky-khai-sinh",
        "chứng thực bản sao giấy tờ cần giấy tờ gì": "chung-thuc.ban-sao-tu-ban-chinh",  # named, it still wins
    }
    for question, expected in cases.items():
        u = matcher.understand(question)
        assert u.matches[0].id == expected and u.confident and u.facet == "documents", (question, u.matches[:2])
    # the same for conditions: "điều kiện" is in the food-safety certificate's name, and scored this one off topic
    for question, expected in {
        "làm căn cước cần điều kiện gì": "can-cuoc.cap-the",
        "cơ sở đủ điều kiện an toàn thực phẩm cần điều kiện gì": "an-toan-thuc-pham.cap-gcn-co-so",
    }.items():
        u = matcher.understand(question)
        assert u.matches[0].id == expected and u.confident and u.facet == "conditions", (question, u.matches[:2])


def test_the_general_procedure_is_answered_when_no_qualifier_of_its_sibling_was_typed(matcher: Matcher) -> None:
    """ "Đăng ký kết hôn" and "… có yếu tố nước ngoài" score close on "đăng ký kết hôn mất bao lâu"; nothing in the
    question says "nước ngoài", so there is no doubt to ask about. With the qualifier typed, the sibling wins."""
    cases = {
        "đăng ký kết hôn mất bao lâu": "ho-tich.dang-ky-ket-hon",
        "đăng ký kết hôn với người nước ngoài mất bao lâu": "ho-tich.ket-hon-yeu-to-nuoc-ngoai",
        "làm căn cước mất bao lâu": "can-cuoc.cap-the",
        "cấp lại căn cước mất bao lâu": "can-cuoc.cap-doi-cap-lai",
        "khai sinh mất bao lâu": "ho-tich.dang-ky-khai-sinh",
        "đăng ký lại khai sinh mất bao lâu": "ho-tich.dang-ky-lai-khai-sinh",
    }
    for question, expected in cases.items():
        u = matcher.understand(question)
        assert u.matches[0].id == expected and u.confident, (question, u.matches[:2])


def test_intents_other_than_procedures(matcher: Matcher) -> None:
    assert matcher.understand("hôm nay trời có mưa không").intent == "out_of_scope"
    assert matcher.understand("chào ad").intent == "greeting"
    assert matcher.understand("cảm ơn nhiều nhé").intent == "thanks"
    u = matcher.understand("tra cứu giúp em hồ sơ 000.00.15.h57 251120 0001")
    assert u.intent == "case_status" and u.case_code == "000.00.15.H57-251120-0001"
    assert matcher.understand("hồ sơ của tôi đến đâu rồi").intent == "case_status"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_clean_is_idempotent_nfc_and_bounded(text: str) -> None:
    out = clean(text)
    assert out == clean(out)
    assert unicodedata.is_normalized("NFC", out)
    assert len(out) <= 1000 and "\u200b" not in out
    assert fold(out) == fold(fold(out))


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_matcher_never_fails_and_answers_in_shape(matcher: Matcher, text: str) -> None:
    u = matcher.understand(text)
    assert u.intent in INTENTS
    assert len(u.matches) <= 5
    assert all(0.0 <= m.score <= 1.0 for m in u.matches)
    assert [m.score for m in u.matches] == sorted((m.score for m in u.matches), reverse=True)


def test_hostile_input_gets_a_sensible_answer(matcher: Matcher) -> None:
    for text in [
        "",
        "   ",
        "😀😀😀",
        "\x00\x01\x02",
        "<script>alert(1)</script>",
        "'; DROP TABLE case; --",
        "Привет 你好 مرحبا",
        "a" * 100_000,
    ]:
        u = matcher.understand(text)
        assert u.intent in ("out_of_scope", "help", "greeting"), (text[:20], u.intent)
        assert len(u.query) <= 1000


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 999),
    st.integers(0, 99),
    st.integers(0, 99),
    st.integers(1, 99),
    st.integers(0, 999999),
    st.integers(0, 9999),
    st.sampled_from([".", "-", " ", ""]),
)
def test_receipt_codes_round_trip(a: int, b: int, c: int, h: int, d: int, n: int, sep: str) -> None:
    printed = f"{a:03d}.{b:02d}.{c:02d}.H{h:02d}-{d:06d}-{n:04d}"
    typed = printed.replace(".", sep).replace("-", sep).lower()
    assert find_code(f"mã hồ sơ {typed} ạ") == printed
    assert normalize_code(typed) == normalize_code(printed)
    payload = encode_payload(printed)
    assert payload and len(payload) <= 64 and decode_payload(payload) == printed


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x1FFF), max_size=80))
def test_fast_diacritic_folding_matches_unicode_decomposition(text: str) -> None:
    from knowledge.text import _strip_slow, strip_diacritics

    assert strip_diacritics(text) == _strip_slow(text)
