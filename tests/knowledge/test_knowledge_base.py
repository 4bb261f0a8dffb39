"""The bundled knowledge base: valid, complete against the catalog, and right about 2025–2026 law."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from knowledge.loader import KnowledgeBase, load_knowledge
from knowledge.text import fold
from tests.conftest import CATALOG, ROOT
from tests.helpers import cli


def test_a_missing_file_is_named_not_blamed_on_the_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    res = cli("kb", "validate", "--catalog", str(tmp_path / "nope.yaml"))
    assert res.returncode == 2
    assert res.stderr.strip() == f"error: {tmp_path / 'nope.yaml'}: no such file or directory"


def test_kb_validate_passes_on_the_bundled_files() -> None:
    res = cli("kb", "validate", "--catalog", str(CATALOG))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "OK: 67 procedures" in res.stdout


def test_knowledge_base_covers_exactly_the_catalog(kb: KnowledgeBase) -> None:
    catalog = yaml.safe_load((CATALOG).read_text(encoding="utf-8"))
    assert {p.id for p in kb.procedures} == {row["slug"] for row in catalog}
    by_slug = {row["slug"]: row for row in catalog}
    for proc in kb.procedures:
        # the catalog's flow mapping cuts "Văn bằng, chứng chỉ" at the comma, hence startswith
        assert proc.field.startswith(by_slug[proc.id]["field"]), proc.id
        assert proc.level == by_slug[proc.id]["level"], proc.id


def test_every_procedure_is_complete(kb: KnowledgeBase) -> None:
    for p in kb.procedures:
        assert len(p.aliases) >= 5, p.id
        assert p.documents and p.steps and p.result and p.legal_basis, p.id
        assert p.processing_time.text, p.id
        for fee in p.fees.items:
            if fee.amount is None:
                assert fee.notes or p.fees.notes or p.notes, f"{p.id}: unknown amount without a note"


def _all_text(p) -> str:  # type: ignore[no-untyped-def]
    return json.dumps(p.model_dump(mode="json"), ensure_ascii=False)


def test_no_abolished_district_level_offices(kb: KnowledgeBase) -> None:
    """Since 1 July 2025 there is no district level; agencies must not send citizens there."""
    for p in kb.procedures:
        where = fold(p.agency.name + " " + p.agency.where)
        assert "cap huyen" not in where and "ubnd huyen" not in where, p.id
        assert "phong tai nguyen" not in where and "phong tu phap" not in where, p.id


def test_paper_household_book_is_never_required(kb: KnowledgeBase) -> None:
    """Sổ hộ khẩu has been invalid since 1 January 2023 (Luật Cư trú 2020)."""
    for p in kb.procedures:
        for d in p.documents:
            assert "so ho khau" not in fold(d.name), f"{p.id}: {d.name}"


def test_ministry_mergers_of_2025_are_reflected(kb: KnowledgeBase) -> None:
    for pid in (
        "doanh-nghiep.tnhh-mot-thanh-vien",
        "doanh-nghiep.cong-ty-co-phan",
        "doanh-nghiep.doanh-nghiep-tu-nhan",
    ):
        assert "so ke hoach" not in fold(_all_text(kb.get(pid))), pid
        assert "tai chinh" in fold(kb.get(pid).agency.name + kb.get(pid).agency.where), pid  # type: ignore[union-attr]
    assert "noi vu" in fold(kb.get("lao-dong.giay-phep-lao-dong").agency.name)  # type: ignore[union-attr]
    for pid in ("gplx.doi", "gplx.cap-lai"):
        assert "cong an" in fold(kb.get(pid).agency.name), pid  # type: ignore[union-attr]
        assert "so giao thong" not in fold(kb.get(pid).agency.name + kb.get(pid).agency.where), pid  # type: ignore[union-attr]


def test_identity_card_uses_the_2023_law(kb: KnowledgeBase) -> None:
    for pid in ("can-cuoc.cap-the", "can-cuoc.cap-doi-cap-lai"):
        text = fold(_all_text(kb.get(pid)))
        assert "luat can cuoc" in text, pid


def test_national_codes_and_links_are_well_formed(kb: KnowledgeBase) -> None:
    for p in kb.procedures:
        if p.code:
            assert re.fullmatch(r"\d\.\d{6}", p.code)
        if p.channels.online.url:
            assert str(p.channels.online.url).startswith("https://")


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_validate_names_file_and_field_for_each_problem(tmp_path: Path) -> None:
    good = (ROOT / "knowledge/procedures/ho-tich/ho-tich.dang-ky-khai-sinh.yaml").read_text(encoding="utf-8")
    root = tmp_path / "procedures"
    _write(root, "ho-tich/ho-tich.dang-ky-khai-sinh.yaml", good)
    _write(root, "ho-tich/broken.yaml", "id: [unclosed\n")
    _write(
        root,
        "ho-tich/ho-tich.missing.yaml",
        good.replace("id: ho-tich.dang-ky-khai-sinh", "id: ho-tich.missing").replace("\nresult:", "\nresult_typo:"),
    )
    _write(
        root,
        "ho-tich/ho-tich.wrong-type.yaml",
        good.replace("id: ho-tich.dang-ky-khai-sinh", "id: ho-tich.wrong-type").replace(
            "last_reviewed:", "last_reviewed: not-a-date\nx_last:"
        ),
    )
    _write(root, "ho-tich/ho-tich.copy.yaml", good.replace("id: ho-tich.dang-ky-khai-sinh", "id: ho-tich.copy"))
    res = cli("kb", "validate", env={"KNOWLEDGE_DIR": str(root)})
    assert res.returncode == 1
    lines = res.stdout.strip().splitlines()
    assert any(line.startswith("procedures/ho-tich/broken.yaml: line 2: malformed YAML") for line in lines), lines
    assert any(line.startswith("procedures/ho-tich/ho-tich.missing.yaml: result: ") for line in lines), lines
    assert any(line.startswith("procedures/ho-tich/ho-tich.wrong-type.yaml: last_reviewed: ") for line in lines), lines
    assert any(": aliases: " in line and "also used by ho-tich." in line for line in lines), lines
    assert "Traceback" not in res.stdout + res.stderr


def test_loader_normalizes_to_nfc(tmp_path: Path) -> None:
    import unicodedata

    good = (ROOT / "knowledge/procedures/ho-tich/ho-tich.dang-ky-khai-sinh.yaml").read_text(encoding="utf-8")
    _write(tmp_path / "procedures", "ho-tich/ho-tich.dang-ky-khai-sinh.yaml", unicodedata.normalize("NFD", good))
    kb = load_knowledge(tmp_path / "procedures")
    assert not kb.problems
    assert kb.procedures[0].name == unicodedata.normalize("NFC", "Đăng ký khai sinh")


def test_export_json_has_every_procedure_and_field() -> None:
    res = cli("kb", "export", "--json")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert len(data["procedures"]) == 67
    required = {
        "id",
        "code",
        "name",
        "aliases",
        "field",
        "level",
        "agency",
        "channels",
        "documents",
        "processing_time",
        "fees",
        "steps",
        "conditions",
        "result",
        "legal_basis",
        "last_reviewed",
        "notes",
    }
    for p in data["procedures"]:
        assert required <= p.keys()


def test_show_prints_the_citizen_card() -> None:
    res = cli("kb", "show", "cu-tru.dang-ky-tam-tru")
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert out.startswith("📄 Đăng ký tạm trú")
    for title in ("Hồ sơ cần chuẩn bị", "Thời hạn giải quyết", "Phí, lệ phí", "Nơi nộp hồ sơ", "Căn cứ:"):
        assert title in out
    assert "<b>" not in out and "&amp;" not in out
    bad = cli("kb", "show", "no-such.procedure")
    assert bad.returncode == 1 and "unknown procedure" in bad.stderr


def test_kb_validate_checks_the_projects_own_catalog_by_default() -> None:
    res = cli("kb", "validate")
    assert res.returncode == 0, res.stdout + res.stderr
    assert "OK: 67 procedures" in res.stdout
