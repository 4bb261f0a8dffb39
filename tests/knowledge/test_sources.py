"""Every claim has its sources, official ones; `kb validate` refuses a claim without one and a non-official URL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from knowledge.loader import KnowledgeBase, load_knowledge
from knowledge.schema import Procedure, claims, generic_claims, is_official
from tests.conftest import ROOT
from tests.helpers import cli

GOOD = ROOT / "knowledge/procedures/ho-tich/ho-tich.dang-ky-khai-sinh.yaml"


def _copy(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(GOOD.read_text(encoding="utf-8"))
    edit(data)
    root = tmp_path / "procedures"
    (root / "ho-tich").mkdir(parents=True)
    (root / "ho-tich" / GOOD.name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return root


def test_every_claim_of_the_bundled_base_has_official_sources(kb: KnowledgeBase) -> None:
    for proc in kb.procedures:
        paths = claims(proc)
        assert len(paths) >= 3 + len(proc.documents) + len(proc.fees.items) - 1, proc.id
        for path, sources in paths:
            assert sources, f"{proc.id}: {path} has no source"
            for s in sources:
                assert s.title and s.checked, f"{proc.id}: {path}"
                assert s.url is None or is_official(str(s.url)), f"{proc.id}: {path}: {s.url}"


@pytest.mark.parametrize(
    "url",
    [
        "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html?ma_thu_tuc=1.001193",
        "https://congbao.chinhphu.vn/van-ban/1.htm",
        "https://vanban.chinhphu.vn/?pageid=27160&docid=1",
        "https://vbpl.vn/TW/Pages/vbpq-toanvan.aspx?ItemID=1",
        "https://quochoi.vn/",
        "https://moj.gov.vn/",
        "https://dichvucong.hanoi.gov.vn/",
    ],
)
def test_official_domains_are_accepted(url: str) -> None:
    assert is_official(url)


@pytest.mark.parametrize(
    "url",
    [
        "https://thuvienphapluat.vn/van-ban/x.aspx",
        "https://luatvietnam.vn/x.html",
        "https://dantri.com.vn/x.htm",
        "https://github.com/x/y",
        "https://gov.vn.example.com/",
        "https://notgov.vn/",
        "https://baochinhphu.vn/x.htm",
    ],
)
def test_other_domains_are_refused(url: str) -> None:
    assert not is_official(url)


def test_validate_fails_on_a_claim_without_sources(tmp_path: Path) -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        del d["documents"][0]["sources"]
        d["processing_time"]["sources"] = []

    root = _copy(tmp_path, edit)
    res = cli("kb", "validate", env={"KNOWLEDGE_DIR": str(root)})
    assert res.returncode == 1
    lines = res.stdout.splitlines()
    rel = "procedures/ho-tich/ho-tich.dang-ky-khai-sinh.yaml"
    assert any(line.startswith(f"{rel}: documents.0.sources: a claim needs `sources`") for line in lines), lines
    assert any(line.startswith(f"{rel}: processing_time.sources: a claim needs at least one") for line in lines), lines


def test_validate_fails_on_a_source_outside_the_official_domains(tmp_path: Path) -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["fees"]["items"][0]["sources"] = [
            {"title": "Bài báo về lệ phí", "url": "https://thuvienphapluat.vn/x.aspx", "checked": "2026-11-25"}
        ]
        d["pointers"] = ["https://thuvienphapluat.vn/x.aspx"]  # a pointer may be anywhere

    root = _copy(tmp_path, edit)
    res = cli("kb", "validate", env={"KNOWLEDGE_DIR": str(root)})
    assert res.returncode == 1
    line = next(x for x in res.stdout.splitlines() if ": fees.items.0.sources.0.url: " in x)
    assert "thuvienphapluat.vn is not an official source" in line and "pointers" in line


def test_a_form_code_needs_its_own_source(tmp_path: Path) -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["documents"][0].pop("form_sources", None)
        d["documents"][0]["form"] = "Mẫu TK1"

    kb = load_knowledge(_copy(tmp_path, edit))
    assert any(p.field == "documents.0" and "form_sources" in p.message for p in kb.problems), kb.problems


def test_a_second_review_cannot_leave_generic_sources(tmp_path: Path) -> None:
    def edit(d: dict) -> None:  # type: ignore[type-arg]
        d["reviewed"] = {"date": "2026-11-30", "by": "Phòng Tư pháp", "changes": "không thay đổi"}

    proc = Procedure.model_validate(yaml.safe_load(GOOD.read_text(encoding="utf-8")))
    assert generic_claims(proc), "the example entry should still have generic sources"
    kb = load_knowledge(_copy(tmp_path, edit))
    assert any("claim(s) still carry generic sources" in p.message for p in kb.problems), kb.problems


def test_validate_warns_about_entries_waiting_for_their_second_review() -> None:
    res = cli("kb", "validate")
    assert res.returncode == 0, res.stdout + res.stderr
    warnings = [x for x in res.stdout.splitlines() if x.startswith("WARNING: ")]
    assert len(warnings) == 67
    assert all(": reviewed: no second-review record yet" in w for w in warnings)
    strict = cli("kb", "validate", "--strict")
    assert strict.returncode == 1 and "67 warning(s) (--strict)" in strict.stderr


def test_export_carries_the_sources_of_every_claim() -> None:
    res = cli("kb", "export", "--json", "--national")
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    for p in data["procedures"]:
        assert p["agency"]["sources"] and p["processing_time"]["sources"], p["id"]
        for d in p["documents"]:
            assert d["sources"] and {"title", "url", "checked", "generic"} <= d["sources"][0].keys(), p["id"]
            assert not d["form"] or d["form_sources"], p["id"]
        assert all(f["sources"] for f in p["fees"]["items"]), p["id"]
        assert "sources" not in p and "maintainer_notes" in p and "pointers" in p


def test_old_news_and_crawl_addresses_are_pointers_not_sources(kb: KnowledgeBase) -> None:
    pointers = [str(u) for p in kb.procedures for u in p.pointers]
    assert any("dantri.com.vn" in u for u in pointers) and any("github.com" in u for u in pointers)
    for proc in kb.procedures:
        for _, sources in claims(proc):
            assert all(s.url is None or "github.com" not in str(s.url) for s in sources)
