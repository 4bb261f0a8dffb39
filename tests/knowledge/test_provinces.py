"""The 34 provinces, the PROVINCE setting, and province overlays merged into the national entries."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.replies.cards import answer, to_plain
from bot.settings import Settings
from knowledge.loader import KnowledgeBase, load_knowledge, load_provinces, province_slugs
from knowledge.text import slugify
from tests.conftest import ROOT
from tests.helpers import cli


def test_the_34_provinces_after_the_2025_merger() -> None:
    provinces, problems = load_provinces()
    assert not problems
    assert len(provinces) == 34
    cities = [p for p in provinces.values() if p.name.startswith("Thành phố ")]
    assert {p.slug for p in cities} >= {"ha-noi", "ho-chi-minh", "hai-phong", "da-nang", "can-tho", "hue"}
    for p in provinces.values():
        short = p.name.removeprefix("Thành phố ").removeprefix("tỉnh ")
        assert p.slug == slugify(short), p
        assert p.authority == "UBND " + p.name, p
    merged = {old for p in provinces.values() for old in p.merged_from}
    assert {"Bình Dương", "Hà Giang", "Quảng Nam", "Bắc Giang"} <= merged
    assert not merged & {p.name.removeprefix("Thành phố ").removeprefix("tỉnh ") for p in provinces.values()}


def test_the_province_setting_takes_a_slug_of_the_list() -> None:
    assert Settings(province="ha-noi").province == "ha-noi"
    assert Settings().province is None
    assert "bac-ninh" in province_slugs()
    with pytest.raises(ValidationError, match="PROVINCE must be one of the 34 province slugs"):
        Settings(province="bac-giang")  # merged into Bắc Ninh in 2025


# --- overlays ------------------------------------------------------------------------------------------------

PROCEDURES = ROOT / "knowledge" / "procedures"
LAND = [
    "dat-dai.cap-doi-gcn",
    "dat-dai.cap-gcn-lan-dau",
    "dat-dai.cap-lai-gcn-bi-mat",
    "dat-dai.chuyen-muc-dich",
    "dat-dai.cung-cap-thong-tin",
    "dat-dai.dang-ky-bien-dong",
    "dat-dai.tach-hop-thua",
]


def test_land_entries_say_each_province_sets_forms_and_times(kb: KnowledgeBase) -> None:
    assert sorted(p.id for p in kb.procedures if p.id.startswith("dat-dai.")) == LAND
    for pid in LAND:
        proc = kb.get(pid)
        assert proc is not None
        assert proc.processing_time.value is None and proc.processing_time.max_value is None, pid
        assert not any(d.form for d in proc.documents), pid
        assert {"time", "forms"} <= set(proc.varies_by_province), pid
        docs = " ".join(b.doc for b in proc.legal_basis)
        assert "49/2026/NĐ-CP" in docs and "50/2026/NĐ-CP" in docs, pid
        assert "49/2026/NĐ-CP" in proc.processing_time.sources[0].title, pid
        time = to_plain(answer(proc, "time"))
        assert "Thời hạn giải quyết do từng tỉnh, thành phố công bố" in time, pid
        assert not re.search(r"\d+ ngày làm việc", time.split("Căn cứ:")[0]), (pid, time)


def test_hanoi_and_hcmc_overlays_cover_the_land_procedures() -> None:
    for province in ("ha-noi", "ho-chi-minh"):
        kb = load_knowledge(PROCEDURES, province)
        assert not kb.problems, kb.problems
        for pid in LAND:
            assert (province, pid) in kb.overlays, (province, pid)
            proc = kb.get(pid)
            assert proc is not None and proc.province is not None and proc.province.slug == province
            time = to_plain(answer(proc, "time"))
            name = kb.provinces[province].name
            assert f"hệ thống chưa cập nhật quy định riêng của {name} cho mục này" in time
            assert str(kb.provinces[province].portal) in time


def test_an_overlay_states_whose_rule_it_gives() -> None:
    hanoi = load_knowledge(PROCEDURES, "ha-noi").get("ho-kinh-doanh.thanh-lap")
    national = load_knowledge(PROCEDURES).get("ho-kinh-doanh.thanh-lap")
    assert hanoi is not None and national is not None
    text = to_plain(answer(hanoi, "fee"))
    assert (
        "Theo quy định của HĐND Thành phố Hà Nội:\n• Lệ phí đăng ký hộ kinh doanh (cấp mới) - nộp hồ sơ giấy: 100.000"
        in text
    )
    assert "Nghị quyết 78/2026/NQ-HĐND" in text.split("Căn cứ:")[1]
    assert hanoi.province is not None and hanoi.province.overlaid == ["fee"]
    national_text = to_plain(answer(national, "fee"))
    assert "mức do HĐND tỉnh quy định" in national_text and "Hà Nội" not in national_text
    hcm = load_knowledge(PROCEDURES, "ho-chi-minh").get("xay-dung.gpxd-nha-o-rieng-le")
    assert hcm is not None
    assert "Theo quy định của UBND Thành phố Hồ Chí Minh:" in to_plain(answer(hcm, "where"))
    assert "Theo quy định" not in to_plain(answer(hcm, "time"))


def test_a_province_without_overlays_says_so_where_figures_vary() -> None:
    kb = load_knowledge(PROCEDURES, "cao-bang")
    assert not kb.problems and not [k for k in kb.overlays if k[0] == "cao-bang"]
    proc = kb.get("ho-tich.dang-ky-khai-sinh")
    assert proc is not None
    text = to_plain(answer(proc, "fee"))
    assert "hệ thống chưa cập nhật quy định riêng của tỉnh Cao Bằng cho mục này" in text
    assert "Cổng Dịch vụ công của tỉnh Cao Bằng" in text


def _tree(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "knowledge" / "procedures", tmp_path / "procedures")
    shutil.copytree(ROOT / "knowledge" / "provinces", tmp_path / "provinces")
    shutil.copy(ROOT / "knowledge" / "bases.yaml", tmp_path / "bases.yaml")
    return tmp_path / "procedures"


def test_validate_checks_overlays(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    good = (tmp_path / "provinces" / "ha-noi" / "ho-kinh-doanh.thay-doi.yaml").read_text(encoding="utf-8")
    (tmp_path / "provinces" / "ha-noi" / "no-such.procedure.yaml").write_text(
        good.replace("procedure: ho-kinh-doanh.thay-doi", "procedure: no-such.procedure"), encoding="utf-8"
    )
    (tmp_path / "provinces" / "bac-giang").mkdir()
    (tmp_path / "provinces" / "bac-giang" / "ho-kinh-doanh.thay-doi.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "provinces" / "ho-chi-minh" / "ho-kinh-doanh.thay-doi.yaml").write_text(good, encoding="utf-8")
    (tmp_path / "provinces" / "ha-noi" / "ho-kinh-doanh.thay-doi.yaml").write_text(
        good.replace(
            "      sources:\n        - {title: Nghị quyết 78/2026", "      x_sources:\n        - {title: N", 1
        ),
        encoding="utf-8",
    )
    res = cli("kb", "validate", env={"KNOWLEDGE_DIR": str(root)})
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    assert "provinces/ha-noi/no-such.procedure.yaml: procedure: unknown procedure id 'no-such.procedure'" in lines
    assert any(
        x.startswith("provinces/bac-giang/ho-kinh-doanh.thay-doi.yaml: -: unknown province folder") for x in lines
    )
    hcm = "provinces/ho-chi-minh/ho-kinh-doanh.thay-doi.yaml"
    assert f"{hcm}: province: must be 'ho-chi-minh', the folder it is in" in lines
    hanoi = "provinces/ha-noi/ho-kinh-doanh.thay-doi.yaml"
    assert any(x.startswith(f"{hanoi}: fees.items.0.sources: a claim needs `sources`") for x in lines), lines


def test_export_and_show_give_the_merged_entry() -> None:
    res = cli("kb", "export", "--json", "--province", "ha-noi")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["province"] == "ha-noi"
    proc = next(p for p in data["procedures"] if p["id"] == "ho-kinh-doanh.thay-doi")
    assert proc["fees"]["items"][0]["amount"] == 100_000
    assert proc["province"]["authority"] == "HĐND Thành phố Hà Nội" and proc["province"]["overlaid"] == ["fee"]
    national = json.loads(cli("kb", "export", "--json", "--national").stdout)
    assert national["province"] is None
    assert all(p["province"] is None for p in national["procedures"])
    show = cli("kb", "show", "xay-dung.gpxd-nha-o-rieng-le", "--province", "ho-chi-minh")
    assert show.returncode == 0, show.stderr
    assert "Áp dụng tại: Thành phố Hồ Chí Minh" in show.stdout
    assert "Theo quy định của UBND Thành phố Hồ Chí Minh:" in show.stdout
    bad = cli("kb", "show", "xay-dung.gpxd-nha-o-rieng-le", "--province", "sai-gon")
    assert bad.returncode == 2 and "unknown province 'sai-gon'" in bad.stderr
