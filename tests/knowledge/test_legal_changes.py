"""The register of legal changes keeps the entries current: a change in force newer than an entry's review must be
marked as checked for that entry; `kb stale` lists what to review."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml

from knowledge.loader import KnowledgeBase, load_knowledge, pending_changes, stale_entries
from tests.conftest import ROOT
from tests.helpers import cli

TODAY = dt.date.today()


def _unchecked(kb: KnowledgeBase, today: dt.date) -> list[str]:
    out = []
    for proc in kb.procedures:
        for change in pending_changes(kb.changes, proc, today=today):
            out.append(f"{proc.id}: reviewed {proc.review_date()}, {change.number} in force {change.in_force}")
    return out


def test_every_change_in_force_is_checked_against_the_entries_it_affects(kb: KnowledgeBase) -> None:
    unchecked = _unchecked(kb, TODAY)
    assert not unchecked, "mark the entries updated in knowledge/legal-changes.yaml once checked:\n" + "\n".join(
        unchecked
    )


def test_the_register_holds_the_changes_of_2025_2026(kb: KnowledgeBase) -> None:
    numbers = {c.number.split(" ")[0] for c in kb.changes}
    assert {
        "161/2026/NĐ-CP",
        "335/2026/NĐ-CP",
        "49/2026/NĐ-CP",
        "50/2026/NĐ-CP",
        "116/2026/TT-BCA",
        "216/2026/NĐ-CP",
        "117/2026/TT-BTC",
        "28/2026/TT-BTC",
        "252/2026/NĐ-CP",
        "168/2025/NĐ-CP",
        "118/2025/QH15",
    } <= numbers
    by_number = {c.number: c for c in kb.changes}
    assert by_number["161/2026/NĐ-CP"].bases == ["luong_co_so"]
    assert by_number["335/2026/NĐ-CP"].bases == ["chuan_tro_giup_xa_hoi"]
    land = {p.id for p in kb.procedures if p.id.startswith("dat-dai.")}
    assert set(by_number["49/2026/NĐ-CP"].affects) == land == set(by_number["49/2026/NĐ-CP"].updated)


def _tree(tmp_path: Path) -> Path:
    for name in ("procedures", "provinces"):
        shutil.copytree(ROOT / "knowledge" / name, tmp_path / name)
    for name in ("bases.yaml", "legal-changes.yaml"):
        shutil.copy(ROOT / "knowledge" / name, tmp_path / name)
    return tmp_path / "procedures"


def _set_review(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    path.write_text(path.read_text(encoding="utf-8").replace(f"last_reviewed: {old}", f"last_reviewed: {new}"), "utf-8")


def test_the_check_fails_for_an_entry_reviewed_before_a_change_and_not_marked(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    _set_review(root, "dang-ky-kinh-doanh/ho-kinh-doanh.thanh-lap.yaml", "2026-11-25", "2025-06-01")
    kb = load_knowledge(root)
    assert not kb.problems
    assert not _unchecked(kb, TODAY)  # reviewed before NĐ 168/2025, but the register marks it updated
    register = yaml.safe_load((tmp_path / "legal-changes.yaml").read_text(encoding="utf-8"))
    change = next(c for c in register["changes"] if c["number"] == "168/2025/NĐ-CP")
    del change["updated"]["ho-kinh-doanh.thanh-lap"]
    (tmp_path / "legal-changes.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
    kb = load_knowledge(root)
    assert _unchecked(kb, TODAY) == ["ho-kinh-doanh.thanh-lap: reviewed 2025-06-01, 168/2025/NĐ-CP in force 2025-07-01"]
    stale = {s.procedure: s.reasons for s in stale_entries(kb, today=TODAY, days=10_000)}
    assert stale["ho-kinh-doanh.thanh-lap"][0].startswith("168/2025/NĐ-CP in force 2025-07-01: ")


def test_a_second_review_after_the_change_settles_it(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    rel = "xuat-nhap-canh/xuat-nhap-canh.ho-chieu-pho-thong.yaml"
    _set_review(root, rel, "2026-11-25", "2026-03-01")  # before TT 28/2026/TT-BTC (01/04/2026), not marked updated
    kb = load_knowledge(root)
    pending = pending_changes(kb.changes, kb.by_id["xuat-nhap-canh.ho-chieu-pho-thong"], today=TODAY)
    assert {c.number for c in pending} == {"28/2026/TT-BTC", "118/2025/QH15"}
    path = root / rel
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for sources in _claim_sources(data):
        for s in sources:
            s.pop("generic", None)  # the reviewer found the text of each claim
    data["reviewed"] = {"date": TODAY.isoformat(), "by": "Phòng Quản lý xuất nhập cảnh", "changes": "lệ phí mới"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    kb = load_knowledge(root)
    assert not kb.problems, kb.problems
    proc = kb.by_id["xuat-nhap-canh.ho-chieu-pho-thong"]
    assert proc.review_date() == TODAY
    assert not list(pending_changes(kb.changes, proc, today=TODAY))
    assert not any(w.file.endswith("xuat-nhap-canh.ho-chieu-pho-thong.yaml") for w in kb.warnings)


def _claim_sources(d: dict) -> list[list[dict]]:  # type: ignore[type-arg]
    out = [d["agency"]["sources"], d["processing_time"]["sources"]]
    for doc in d["documents"]:
        out += [doc["sources"], doc.get("form_sources", [])]
    out += [f["sources"] for f in d["fees"]["items"]]
    out += [b["sources"] for b in d.get("benefits", [])]
    return out


def test_the_register_is_validated(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    original = (tmp_path / "legal-changes.yaml").read_text(encoding="utf-8")
    register = yaml.safe_load(original)
    register["changes"][0]["affects"].append("no-such.procedure")
    register["changes"][2]["bases"] = ["luong_toi_thieu"]
    (tmp_path / "legal-changes.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
    res = cli("kb", "validate", env={"KNOWLEDGE_DIR": str(root)})
    assert res.returncode == 1
    assert "legal-changes.yaml: changes.0.affects: unknown procedure id 'no-such.procedure' (161/2026/NĐ-CP)" in (
        res.stdout.splitlines()
    )
    assert "legal-changes.yaml: changes.2.bases: unknown base 'luong_toi_thieu' (49/2026/NĐ-CP)" in res.stdout
    register = yaml.safe_load(original)
    register["changes"][1]["updated"] = {"cu-tru.dang-ky-tam-tru": "2026-11-25"}
    (tmp_path / "legal-changes.yaml").write_text(yaml.safe_dump(register, allow_unicode=True), encoding="utf-8")
    kb = load_knowledge(root)
    assert [str(p) for p in kb.problems] == [
        "legal-changes.yaml: changes.1: updated lists procedures not in affects: cu-tru.dang-ky-tam-tru"
    ]


def test_kb_stale_lists_entries_and_the_registers_open_items() -> None:
    res = cli("kb", "stale", "--on", "2026-12-03")
    assert res.returncode == 0, res.stderr
    assert "no stale entry on 2026-12-03" in res.stdout
    assert "335/2026/NĐ-CP (in force 2026-07-01): bao-tro.ho-tro-mai-tang" in res.stdout
    assert "64/2025/TT-BTC (hết thời hạn giảm) (from 2027-01-01)" in res.stdout
    later = cli("kb", "stale", "--on", "2027-01-02", "--days", "20")
    lines = later.stdout.splitlines()
    assert "can-cuoc.cap-doi-cap-lai: reviewed 2026-11-25" in lines
    assert "  - reviewed 38 days ago (more than 20)" in lines
    assert any(x.startswith("  - 64/2025/TT-BTC (hết thời hạn giảm) in force 2027-01-01: ") for x in lines)
    assert "provinces/ha-noi/dat-dai.cap-doi-gcn: reviewed 2026-12-03" in lines
    bad = cli("kb", "stale", "--on", "mai")
    assert bad.returncode == 2 and "cannot read date" in bad.stderr
