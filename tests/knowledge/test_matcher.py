"""The matcher: quality on the measuring split of our labelled set, behaviour on hostile input."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.codes import decode_payload, encode_payload, find_code, normalize_code
from knowledge.evaluation import Row, evaluate, read_questions
from knowledge.loader import KnowledgeBase
from knowledge.matcher import INTENTS, TIERS, Match, Matcher
from knowledge.national import NationalIndex, load_national
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


# --- two tiers: our procedures and the national index ------------------------------------------------------------

NATIONAL_DATA = DATA.parent / "questions_national.tsv"

# The issue's targets for the two tiers, on the `measure` splits of both files. Not all are reached yet; the floors
# below hold what is (docs/matcher.md gives the figures and what still fails), so a change that loses ground fails.
TARGETS = {"top1": 0.95, "top3": 0.99, "national_top1": 0.85, "national_top3": 0.95, "out_of_scope": 0.92}
TARGET_CONFIDENT_WRONG = 0.01
TWO_TIER_FLOORS = {"top1": 0.935, "top3": 0.99, "national_top1": 0.84, "national_top3": 0.93, "out_of_scope": 0.92}
TWO_TIER_MAX_CONFIDENT_WRONG = 0.0125


@pytest.fixture(scope="module")
def national() -> NationalIndex:
    return load_national()


@pytest.fixture(scope="module")
def two_tier(kb: KnowledgeBase, national: NationalIndex) -> Matcher:
    return Matcher(kb.procedures, national=national)


def _both(split: str) -> list[Row]:
    return read_questions(DATA, split) + read_questions(NATIONAL_DATA, split)


def test_the_national_question_set_has_the_promised_shape(national: NationalIndex) -> None:
    rows = read_questions(NATIONAL_DATA)
    index_only = [r for r in rows if r.tier == "national"]
    assert len(index_only) >= 300
    assert len({r.codes[0] for r in index_only}) >= 100
    assert all(set(r.codes) <= set(national.by_code) for r in index_only)
    assert all(r.split in ("tune", "measure") for r in rows)
    measure = [r for r in index_only if r.split == "measure"]
    assert len(measure) >= 150 and len({r.codes[0] for r in measure}) >= 60
    off_topic = [r for r in rows + read_questions(DATA) if r.expect == "@out_of_scope"]
    assert len(off_topic) >= 100
    share = lambda style: sum(r.style == style for r in index_only) / len(index_only)  # noqa: E731
    assert share("nodiac") >= 0.3 and share("colloquial") >= 0.3


def test_labels_never_name_a_national_code_our_procedures_answer(kb: KnowledgeBase, national: NationalIndex) -> None:
    covered = {p.code for p in kb.procedures if p.code} | set(national.curated)
    for row in read_questions(NATIONAL_DATA):
        assert not set(row.codes) & covered, row
        assert all(a in kb.by_id for a in row.alternatives if a not in row.codes), row


def test_two_tier_quality_on_the_measuring_split(two_tier: Matcher) -> None:
    summary = evaluate(two_tier, _both("measure")).summary()
    for metric, floor in TWO_TIER_FLOORS.items():
        assert summary[metric] >= floor, (metric, summary)
        assert floor <= TARGETS[metric]  # the floors never pretend to be more than the targets
    assert summary["confident_wrong"] <= TWO_TIER_MAX_CONFIDENT_WRONG, summary


def test_the_issues_examples_get_a_pointer_not_the_nearest_procedure_of_ours(two_tier: Matcher) -> None:
    cases = {
        "giai the doanh nghiep tu nhan can ho so gi": {"2.002023"},
        "dang ky huong luong huu can nhung gi": {"1.014171", "1.014172", "2.000605"},
        "Thủ tục quyết toán thuế thu nhập cá nhân năm 2025 thực hiện như thế nào?": {"2.002233", "1.008309"},
    }
    for question, codes in cases.items():
        u = two_tier.understand(question)
        top = u.matches[0]
        assert u.intent == "procedure" and top.tier == "national" and top.code in codes, (question, u.matches[:3])
        assert top.id == f"national:{top.code}"
        d = u.to_dict()
        assert d["matches"][0]["tier"] == "national" and d["matches"][0]["code"] == top.code


def test_questions_about_our_procedures_still_get_ours(two_tier: Matcher) -> None:
    cases = {
        "đăng ký tạm trú cần gì": "cu-tru.dang-ky-tam-tru",
        "lam can cuoc lan dau can j": "can-cuoc.cap-the",
        "rút bhxh 1 lần mất bao lâu": "bhxh.huong-mot-lan",
        "đổi bằng lái xe ở đâu": "gplx.doi",
        "thủ tục giải thể hộ kinh doanh": "ho-kinh-doanh.tam-ngung-cham-dut",
    }
    for question, expected in cases.items():
        u = two_tier.understand(question)
        assert u.matches[0].id == expected and u.matches[0].tier == "curated" and u.confident, (question, u.matches[:3])


def test_a_national_procedure_we_cover_is_never_shown_beside_ours(two_tier: Matcher, national: NationalIndex) -> None:
    covered = set(national.curated) | {"1.004194"}  # 1.004194 is cu-tru.dang-ky-tam-tru's own code
    for question in [
        "đăng ký tạm trú cần gì",
        "làm căn cước cho con 10 tuổi",
        "chế độ thai sản khi vợ sinh",
        "đổi bằng lái",
    ]:
        codes = {m.code for m in two_tier.understand(question).matches if m.tier == "national"}
        assert not codes & covered, question


def test_what_is_done_to_a_paper_decides_between_neighbours(two_tier: Matcher) -> None:
    """The action the citizen asks for ("xóa", "cấp lại") separates a national procedure from our general one."""
    cases = {
        "xóa đăng ký tạm trú cho người thuê trọ": "1.010028",
        "làm mất giấy phép xây dựng nhà xin cấp lại": "1.013228",
        "trình báo mất hộ chiếu ở đâu": "1.010386",
    }
    for question, code in cases.items():
        u = two_tier.understand(question)
        assert u.matches[0].code == code, (question, u.matches[:3])
    level_variants = [m for m in two_tier.understand("trình báo mất hộ chiếu ở đâu").matches if "hộ chiếu" in m.name]
    assert len({" ".join(m.name.split()[:6]) for m in level_variants}) == len(level_variants)  # one per procedure


def test_everyday_words_are_not_repaired_into_official_ones(two_tier: Matcher) -> None:
    assert two_tier.tokens("tổ chức đêm ca nhạc")[:5] == ["to", "chuc", "dem", "ca", "nhac"]
    u = two_tier.understand("tổ chức đêm ca nhạc ngoài trời xin phép gì")
    assert u.matches[0].code == "1.009397"  # Thủ tục tổ chức biểu diễn nghệ thuật, found through "ca nhạc"


def test_off_topic_questions_that_share_words_with_procedures_are_refused(two_tier: Matcher) -> None:
    for question in [
        "giá đất quận 7 bao nhiêu",
        "mua bảo hiểm xe máy online",
        "lãi suất vay mua nhà ngân hàng nào thấp",
        "thời tiết hà nội ngày mai",
        "nên mua xe điện vinfast ko các bác",
    ]:
        assert two_tier.understand(question).intent == "out_of_scope", question


def test_a_province_sees_its_own_procedures(kb: KnowledgeBase) -> None:
    question = "hỗ trợ chi phí hỏa táng ở bắc ninh"
    everywhere = Matcher(kb.procedures, national=load_national())
    assert all(m.code != "1.014582" for m in everywhere.understand(question).matches)
    bac_ninh = Matcher(kb.procedures, national=load_national(province="bac-ninh"))
    assert bac_ninh.understand(question).matches[0].code == "1.014582"


def test_curated_only_matches_keep_their_shape(matcher: Matcher) -> None:
    u = matcher.understand("đăng ký kết hôn cần gì")
    assert all(m.tier == "curated" for m in u.matches)
    d = u.to_dict()
    assert set(d["matches"][0]) == {"id", "name", "score", "tier", "code"}
    assert d["matches"][0]["code"] == "1.000894"


def test_rows_accept_the_right_answers() -> None:
    row = Row("1.007277|dat-dai.dang-ky-bien-dong", "fee", "nodiac", "q")
    assert row.tier == "national" and row.codes == ("1.007277",)
    assert row.answered_by(Match("national:1.007277", "x", 0.9, "national", "1.007277"))
    assert row.answered_by(Match("dat-dai.dang-ky-bien-dong", "x", 0.9, "curated", "1.013831"))
    assert not row.answered_by(Match("national:1.013831", "x", 0.9, "national", "1.013831"))
    assert Row("ho-tich.dang-ky-khai-sinh", None, "", "q").tier == "curated"
    assert Row("@out_of_scope", None, "", "q").tier == ""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=120))
def test_the_two_tier_matcher_never_fails(two_tier: Matcher, text: str) -> None:
    u = two_tier.understand(text)
    assert u.intent in INTENTS and len(u.matches) <= 5
    assert all(0.0 <= m.score <= 1.0 and m.tier in TIERS for m in u.matches)
    assert all((m.tier == "national") == m.id.startswith("national:") for m in u.matches)
