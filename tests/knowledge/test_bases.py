"""Base amounts in one place (knowledge/bases.yaml): entries refer to them, cards compute the figures."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import yaml

from bot.replies.cards import answer, section, to_plain
from knowledge.loader import KnowledgeBase, load_knowledge
from knowledge.schema import BaseAmount, base_amounts
from tests.conftest import ROOT

KNOWLEDGE = ROOT / "knowledge"


def test_the_base_amounts_with_their_dates_and_sources(kb: KnowledgeBase) -> None:
    luong = kb.bases["luong_co_so"]
    assert [(v.amount, v.since) for v in luong.values] == [
        (2_340_000, dt.date(2024, 7, 1)),
        (2_530_000, dt.date(2026, 7, 1)),
    ]
    assert "161/2026/NĐ-CP" in luong.values[-1].sources[0].title
    chuan = kb.bases["chuan_tro_giup_xa_hoi"]
    assert chuan.values[-2].amount == 500_000 and "76/2024/NĐ-CP" in chuan.values[-2].sources[0].title
    new = chuan.values[-1]
    # the new standard of NĐ 335/2026 was not read in an official text: recorded as unknown, not guessed
    assert new.since == dt.date(2026, 7, 1) and new.amount is None and "335/2026/NĐ-CP" in new.sources[0].title
    tham_chieu = kb.bases["muc_tham_chieu"]
    assert tham_chieu.follows == "luong_co_so" and tham_chieu.values == luong.values


def test_entries_refer_to_bases_and_every_reference_is_linked(kb: KnowledgeBase) -> None:
    users = {p.id: [a.base for _, a in base_amounts(p)] for p in kb.procedures if base_amounts(p)}
    assert users == {
        "bao-tro.ho-tro-mai-tang": ["chuan_tro_giup_xa_hoi"],
        "bao-tro.tro-cap-xa-hoi-hang-thang": ["chuan_tro_giup_xa_hoi"],
        "bhxh.che-do-thai-san": ["muc_tham_chieu"],
    }
    for proc in kb.procedures:
        for _, amount in base_amounts(proc):
            assert amount.base_model is kb.bases[amount.base]


# Figures computed by hand from a base, in citizen text: they go stale when the base changes.
DERIVED_IN_TEXT = re.compile(
    r"\d+ lần mức (chuẩn|tham chiếu|lương cơ sở)[^.;]{0,40}\d{1,3}(\.\d{3})+ đồng|"
    r"(mức chuẩn|mức tham chiếu|mức lương cơ sở)[^.;]{0,30}(là|bằng) \d{1,3}(\.\d{3})+ đồng"
)


def _citizen_strings(obj: object, key: str = "") -> list[str]:
    if isinstance(obj, dict):
        skip = {"maintainer_notes", "sources", "form_sources", "pointers", "legal_basis", "keywords", "aliases"}
        return [s for k, v in obj.items() if k not in skip for s in _citizen_strings(v, k)]
    if isinstance(obj, list):
        return [s for x in obj for s in _citizen_strings(x, key)]
    return [obj] if isinstance(obj, str) else []


def test_no_entry_computes_a_base_amount_in_free_text(kb: KnowledgeBase) -> None:
    for proc in kb.procedures:
        for text in _citizen_strings(proc.model_dump(mode="json")):
            assert not DERIVED_IN_TEXT.search(text), (proc.id, text)
    assert DERIVED_IN_TEXT.search("Mức hỗ trợ bằng 20 lần mức chuẩn trợ giúp xã hội, tức 10.000.000 đồng")
    assert DERIVED_IN_TEXT.search("mức chuẩn là 500.000 đồng/tháng từ 01/07/2024")


def test_a_card_says_plainly_that_a_base_changed_when_its_new_value_is_unknown(kb: KnowledgeBase) -> None:
    proc = kb.get("bao-tro.ho-tro-mai-tang")
    assert proc is not None
    text = to_plain(section(proc, "fee", day=dt.date(2026, 12, 3)))
    assert "20 lần mức chuẩn trợ giúp xã hội" in text
    assert "Mức chuẩn trợ giúp xã hội được điều chỉnh từ 01/07/2026 theo Nghị định 335/2026/NĐ-CP" in text
    assert "Trước ngày 01/07/2026, mức chuẩn trợ giúp xã hội là 500.000 đồng/tháng, tương ứng 10.000.000 đồng" in text
    before = to_plain(section(proc, "fee", day=dt.date(2026, 6, 30)))
    assert "10.000.000 đồng (bằng 20 lần mức chuẩn trợ giúp xã hội 500.000 đồng/tháng, áp dụng từ 01/07/2024" in before
    assert "335/2026" in to_plain(answer(proc, "fee")).split("Căn cứ:")[1]


def test_a_card_computes_the_amount_for_the_day_it_is_read(kb: KnowledgeBase) -> None:
    proc = kb.get("bhxh.che-do-thai-san")
    assert proc is not None
    after = to_plain(section(proc, "fee", day=dt.date(2026, 12, 3)))
    assert "5.060.000 đồng (bằng 2 lần mức tham chiếu 2.530.000 đồng/tháng, áp dụng từ 01/07/2026" in after
    assert "trước ngày 01/07/2026: 4.680.000 đồng" in after
    before = to_plain(section(proc, "result", day=dt.date(2026, 6, 30)))
    assert "4.680.000 đồng (bằng 2 lần mức tham chiếu 2.340.000 đồng/tháng, áp dụng từ 01/07/2024" in before


def _copy_knowledge(tmp_path: Path) -> Path:
    shutil.copytree(KNOWLEDGE / "procedures", tmp_path / "procedures")
    shutil.copy(KNOWLEDGE / "bases.yaml", tmp_path / "bases.yaml")
    return tmp_path / "procedures"


def test_one_new_base_value_updates_every_derived_amount(tmp_path: Path) -> None:
    root = _copy_knowledge(tmp_path)
    bases = yaml.safe_load((tmp_path / "bases.yaml").read_text(encoding="utf-8"))
    bases["bases"]["chuan_tro_giup_xa_hoi"]["values"][-1]["amount"] = 600_000  # a made-up figure, for the test only
    (tmp_path / "bases.yaml").write_text(yaml.safe_dump(bases, allow_unicode=True), encoding="utf-8")
    kb = load_knowledge(root)
    assert not kb.problems
    day = dt.date(2026, 12, 3)
    mai_tang = to_plain(section(kb.get("bao-tro.ho-tro-mai-tang"), "fee", day=day))  # type: ignore[arg-type]
    assert (
        "12.000.000 đồng (bằng 20 lần mức chuẩn trợ giúp xã hội 600.000 đồng/tháng, áp dụng từ 01/07/2026" in mai_tang
    )
    tro_cap = to_plain(section(kb.get("bao-tro.tro-cap-xa-hoi-hang-thang"), "fee", day=day))  # type: ignore[arg-type]
    assert "600.000 đồng/tháng (Mức chuẩn trợ giúp xã hội áp dụng từ 01/07/2026" in tro_cap


def test_an_unknown_base_is_a_problem(tmp_path: Path) -> None:
    root = _copy_knowledge(tmp_path)
    path = root / "bao-tro-xa-hoi" / "bao-tro.ho-tro-mai-tang.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("base: chuan_tro_giup_xa_hoi", "base: chuan_cu"), "utf-8")
    kb = load_knowledge(root)
    assert [(p.field, p.message.split(" (")[0]) for p in kb.problems] == [
        ("benefits.0.amount.base", "unknown base 'chuan_cu'")
    ]


def test_export_writes_base_references_and_the_bases() -> None:
    from tests.helpers import cli

    res = cli("kb", "export", "--json", "--national")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    mai_tang = next(p for p in data["procedures"] if p["id"] == "bao-tro.ho-tro-mai-tang")
    assert mai_tang["benefits"][0]["amount"] == {"base": "chuan_tro_giup_xa_hoi", "multiplier": 20.0}
    assert data["bases"]["chuan_tro_giup_xa_hoi"]["values"][-1]["amount"] is None
    assert isinstance(BaseAmount.model_validate(mai_tang["benefits"][0]["amount"]), BaseAmount)
