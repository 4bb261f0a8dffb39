"""The national index: the import from a crawl, the committed data, and how a deployment loads it."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest

from knowledge.loader import KnowledgeBase
from knowledge.national import (
    DATA_DIR,
    DETAILS_FILE,
    INDEX_FILE,
    NationalIndex,
    import_catalog,
    levels_of,
    load_national,
    province_key,
    read_aliases,
    read_curated,
    write_import,
)
from tests.helpers import cli


def _row(code: str, name: str, kind: str = "STANDARD", **extra: object) -> dict[str, object]:
    row: dict[str, object] = {
        "id": f"id-{code.strip()}",
        "name": name,
        "code": code,
        "codeNotation": code,
        "categories": ["Hộ tịch"],
        "departments": ["Ủy ban nhân dân cấp xã"],
        "departmentPromulgate": "Bộ Tư pháp",
        "formalityTargetType": ["Công dân Việt Nam"],
        "state": "ACTIVE",
        "type": kind,
    }
    row.update(extra)
    return row


@pytest.fixture
def crawl(tmp_path: Path) -> Path:
    """A small crawl shaped like /work/shared/national: every case the import must handle."""
    folder = tmp_path / "crawl"
    (folder / "details").mkdir(parents=True)
    lines = [
        json.dumps(_row("1.000001", "Thủ tục đăng ký lại kết hôn"), ensure_ascii=False),
        json.dumps(_row("2.000002", "GIẢI THỂ HỘI", departments=["Sở Nội vụ"]), ensure_ascii=False),
        # a province's variant of 1.000001 ("Thủ tục" and the province's name differ): folded into it
        json.dumps(
            _row(
                "1.100001",
                "Đăng ký lại kết hôn trên địa bàn tỉnh Bắc Ninh",
                "SPECIFIC",
                departmentPromulgate="UBND tỉnh Bắc Ninh",
            ),
            ensure_ascii=False,
        ),
        # a province's own procedure: kept, shown only to that province
        json.dumps(
            _row("1.100002", "Hỗ trợ chi phí hỏa táng", "SPECIFIC", departmentPromulgate="UBND tỉnh Bắc Ninh"),
            ensure_ascii=False,
        ),
        json.dumps(_row("5.000003", "Trao đổi dữ liệu giữa các bộ", "STANDARD_INTERNAL"), ensure_ascii=False),
        json.dumps(_row(" 1.000001", "Bản trùng mã"), ensure_ascii=False),
        json.dumps(_row("1.000004", "Không có trang", id="")),
        "{not json",
        "",
    ]
    (folder / "catalog.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "README.md").write_text("5 procedures, crawled around 18/7/2026.\n", encoding="utf-8")
    record = {
        "code": "OK",
        "data": {
            "code": "1.000001",
            "updatedAt": 1776310043145,  # 16/04/2026
            "isWard": True,
            "executionCases": [
                {
                    "name": "* Giấy tờ phải nộp:",
                    "profileComponents": [
                        {
                            "name": "Tờ khai đăng ký lại kết hôn",
                            "originalQty": 1,
                            "copyQty": 0,
                            "attachments": [{"fileName": "TK.docx"}],
                        }
                    ],
                }
            ],
            "executionMethods": [
                {
                    "submissionMethod": "DIRECT",
                    "processingTime": 5,
                    "processingTimeUnit": "WORKING_DAY",
                    "fees": [{"type": "FEE", "value": 10000, "description": ""}],
                },
                {"submissionMethod": "ONLINE", "processingTime": 5, "processingTimeUnit": "WORKING_DAY", "fees": []},
            ],
            "resultsDetails": [{"name": "Trích lục kết hôn"}],
        },
    }
    (folder / "details" / "1.000001.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    (folder / "details" / "9.999999.json").write_text(
        json.dumps({"code": "OK", "data": {"code": "9.999999"}}), encoding="utf-8"
    )
    (folder / "details" / "2.000002.json").write_text(json.dumps({"code": "NOT_FOUND", "data": None}), encoding="utf-8")
    return folder


def test_import_folds_variants_keeps_province_procedures_and_says_what_it_skipped(crawl: Path) -> None:
    index, details, report = import_catalog(crawl / "catalog.jsonl", crawl / "details")
    assert report.read == 8 and report.imported == 2 and report.folded == 1 and report.province_only == 1
    assert report.crawled == dt.date(2026, 7, 18) and index["crawled"] == "2026-07-18"
    assert report.skipped == {
        "STANDARD_INTERNAL: between agencies, not for citizens": 1,
        "code listed twice (first kept)": 1,
        "no portal id (no page to point to)": 1,
        "not valid JSON": 1,
    }
    assert report.details == 1 and sum(report.details_skipped.values()) == 2
    by_code = {p["code"]: p for p in index["procedures"]}
    assert set(by_code) == {"1.000001", "2.000002", "1.100002"}
    assert by_code["1.000001"]["variants"][0]["code"] == "1.100001"
    assert by_code["1.000001"]["variants"][0]["province"] == "Bắc Ninh"
    assert by_code["1.100002"]["province"] == "Bắc Ninh"
    assert by_code["2.000002"]["name"] == "Giải thể hội"  # ALL CAPS names get sentence case
    assert by_code["1.000001"]["levels"] == ["xa"] and by_code["2.000002"]["levels"] == ["tinh"]
    detail = details["details"][0]
    assert detail["updated"] == "2026-04-16" and detail["methods"] == ["DIRECT", "ONLINE"]
    assert detail["documents"][0]["items"][0] == {
        "name": "Tờ khai đăng ký lại kết hôn",
        "original": 1,
        "copy": 0,
        "forms": ["TK.docx"],
    }
    lines = report.lines()
    assert any("skipped 1: STANDARD_INTERNAL" in line for line in lines)
    assert lines[0].startswith("read 8 catalogue lines (crawled 18/07/2026)")


def test_import_is_idempotent_and_reproducible(crawl: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = write_import(*import_catalog(crawl / "catalog.jsonl", crawl / "details")[:2], out)
    assert {p.name for p in first} == {INDEX_FILE, DETAILS_FILE}
    before = {p.name: p.read_bytes() for p in first}
    again = write_import(*import_catalog(crawl / "catalog.jsonl", crawl / "details")[:2], out)
    assert again == []  # same crawl, nothing rewritten
    other = tmp_path / "other"
    write_import(*import_catalog(crawl / "catalog.jsonl", crawl / "details")[:2], other)
    assert {p.name: p.read_bytes() for p in other.iterdir()} == before  # byte for byte (gzip without a timestamp)
    text = gzip.decompress(before[INDEX_FILE]).decode()
    assert json.loads(text)["format"] == 1 and text.count("\n") >= 4  # one procedure a line


def test_a_deployment_sees_its_province(crawl: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_import(*import_catalog(crawl / "catalog.jsonl", crawl / "details")[:2], out)
    everywhere = load_national(out)
    assert {p.code for p in everywhere.procedures} == {"1.000001", "2.000002"}
    assert everywhere.get("1.000001").local is None  # type: ignore[union-attr]
    bac_ninh = load_national(out, province="bac ninh")
    assert {p.code for p in bac_ninh.procedures} == {"1.000001", "2.000002", "1.100002"}
    proc = bac_ninh.get("1.000001")
    assert proc is not None and proc.local is not None and proc.local.code == "1.100001"
    assert proc.url.endswith("ma_thu_tuc=id-1.100001")  # the province's own page
    assert everywhere.detail("1.000001") is not None and everywhere.detail("1.000001").online  # type: ignore[union-attr]
    assert everywhere.crawled == dt.date(2026, 7, 18)


def test_import_command(crawl: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = [
        "kb",
        "import-national",
        str(crawl / "catalog.jsonl"),
        "--details",
        str(crawl / "details"),
        "--out",
        str(out),
    ]
    first = cli(*args)
    assert first.returncode == 0, first.stderr
    assert "imported 2 national procedures" in first.stdout and "folded 1 province variants" in first.stdout
    assert "skipped 1: STANDARD_INTERNAL" in first.stdout and "wrote" in first.stdout
    again = cli(*args)
    assert again.returncode == 0 and "already up to date" in again.stdout
    missing = cli("kb", "import-national", str(tmp_path / "nope.jsonl"))
    assert missing.returncode != 0 and "no such file" in (missing.stderr + missing.stdout)


@pytest.mark.parametrize(
    ("agency", "levels"),
    [
        ("Ủy ban nhân dân cấp xã", ("xa",)),
        ("Công an cấp Xã", ("xa",)),
        ("Bảo hiểm xã hội tỉnh", ("tinh",)),  # "xã hội" is not a commune
        ("Sở Y tế", ("tinh",)),
        ("Chi nhánh Văn phòng đăng ký đất đai khu vực", ("tinh",)),
        ("Bộ Công an", ("trung-uong",)),
        ("Cục An toàn bức xạ và hạt nhân", ("trung-uong",)),  # "bức xạ" is not a commune either
        ("Cơ sở giáo dục", ()),
    ],
)
def test_levels_come_from_the_agencies_words(agency: str, levels: tuple[str, ...]) -> None:
    assert levels_of([agency]) == levels


def test_province_names_compare_in_any_spelling() -> None:
    assert province_key("UBND tỉnh Bắc Ninh") == province_key("bac-ninh") == province_key("Bắc Ninh") == "bac ninh"
    assert province_key("Trung tâm phục vụ hành chính công Thành phố Hà Nội") == province_key("TP Hà Nội") == "ha noi"
    assert province_key(None) == ""


@pytest.fixture(scope="module")
def committed() -> NationalIndex:
    return load_national()


def test_the_committed_index_is_whole_and_small(committed: NationalIndex) -> None:
    assert len(committed) >= 4500 and committed.crawled == dt.date(2026, 7, 18)
    assert len({p.code for p in committed.procedures}) == len(committed.procedures)
    assert all(p.province is None for p in committed.procedures)  # no province's own procedure without PROVINCE
    assert len(committed.details) >= 400
    assert all(d.updated.year == 2026 for d in committed.details.values())
    size = sum(f.stat().st_size for f in DATA_DIR.iterdir())
    assert size < 3_000_000, size


def test_hand_written_files_point_at_real_procedures(committed: NationalIndex, kb: KnowledgeBase) -> None:
    curated = read_curated(DATA_DIR / "curated.yaml")
    assert set(curated.values()) <= {p.id for p in kb.procedures}
    assert set(curated) <= set(committed.by_code)
    aliases = read_aliases(DATA_DIR / "aliases.yaml")
    assert len(aliases) >= 150 and set(aliases) <= set(committed.by_code)
    own_codes = {p.code for p in kb.procedures if p.code}
    assert not set(aliases) & (set(curated) | own_codes)  # a covered procedure is answered by ours
