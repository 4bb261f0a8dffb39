"""Loads and checks the knowledge base: procedures, base amounts, provinces and their overlays, legal changes.

Layout, relative to the procedures folder `root` (`knowledge/procedures` unless KNOWLEDGE_DIR says otherwise):

    root/<field>/<id>.yaml                      one procedure each (schema.Procedure)
    root/../bases.yaml                          base amounts (schema.BaseTable)
    root/../provinces/provinces.yaml            the 34 provinces (schema.ProvinceList)
    root/../provinces/<province>/<id>.yaml      a province's overlay of a procedure (schema.Overlay)
    root/../legal-changes.yaml                  the register of amending texts (schema.LegalRegister)

Problems are collected rather than raised so that `kb validate` can list all of them at once, each as
`file: field: message`; warnings (entries still waiting for their second review) are listed apart and only fail
`kb validate --strict`. The province is an argument: this package reads no settings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.schema import (
    Base,
    BaseAmount,
    BaseTable,
    LegalChange,
    LegalRegister,
    Overlay,
    Procedure,
    Province,
    ProvinceContext,
    ProvinceList,
    base_amounts,
    generic_claims,
)
from knowledge.text import fold, slugify
from knowledge.yaml_files import M as M  # re-exported, with Problem
from knowledge.yaml_files import Problem as Problem
from knowledge.yaml_files import _read_yaml, _validate

BASES_FILE = "bases.yaml"
CHANGES_FILE = "legal-changes.yaml"
PROVINCES_DIR = "provinces"
PROVINCES_FILE = "provinces.yaml"
BUNDLED = Path(__file__).resolve().parent


@dataclass
class KnowledgeBase:
    procedures: list[Procedure] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    bases: dict[str, Base] = field(default_factory=dict)
    provinces: dict[str, Province] = field(default_factory=dict)
    overlays: dict[tuple[str, str], Overlay] = field(default_factory=dict)
    changes: list[LegalChange] = field(default_factory=list)
    province: str | None = None
    files: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {p.id: p for p in self.procedures}

    def get(self, procedure_id: str) -> Procedure | None:
        return self.by_id.get(procedure_id)

    def fields(self) -> list[str]:
        return sorted({p.field for p in self.procedures}, key=fold)

    def in_field(self, field_name: str) -> list[Procedure]:
        return sorted((p for p in self.procedures if p.field == field_name), key=lambda p: fold(p.name))


class KnowledgeError(RuntimeError):
    """The knowledge base cannot be used; the message lists the problems."""


def _load_file(path: Path, rel: str) -> tuple[Procedure | None, list[Problem]]:
    data, problems = _read_yaml(path, rel)
    if problems:
        return None, problems
    if isinstance(data, dict) and "province" in data:
        return None, [Problem(rel, "province", "set by the loader from an overlay; put province rules in an overlay")]
    return _validate(Procedure, data, rel)


def _cross_checks(items: list[tuple[str, Procedure]]) -> list[Problem]:
    problems: list[Problem] = []
    ids: dict[str, str] = {}
    aliases: dict[str, tuple[str, str]] = {}
    for rel, proc in items:
        expected_dir = slugify(proc.field)
        parts = Path(rel).parts
        if len(parts) < 2 or parts[-2] != expected_dir:
            problems.append(Problem(rel, "field", f"file must be in folder {expected_dir}/ for field {proc.field!r}"))
        if Path(rel).stem != proc.id:
            problems.append(Problem(rel, "id", f"file name must be {proc.id}.yaml"))
        if proc.id in ids:
            problems.append(Problem(rel, "id", f"duplicate id, also in {ids[proc.id]}"))
        ids[proc.id] = rel
        for alias in [proc.name, *proc.aliases]:
            key = fold(alias)
            other = aliases.get(key)
            if other and other[1] != proc.id:
                problems.append(Problem(rel, "aliases", f"{alias!r} is also used by {other[1]} ({other[0]})"))
            aliases.setdefault(key, (rel, proc.id))
    return problems


# --- base amounts --------------------------------------------------------------------------------------------


def load_bases(path: Path, rel: str = BASES_FILE) -> tuple[dict[str, Base], list[Problem]]:
    """bases.yaml, with each `follows` base given the values of the base it follows."""
    if not path.is_file():
        return {}, []
    data, problems = _read_yaml(path, rel)
    if problems:
        return {}, problems
    table, problems = _validate(BaseTable, data, rel)
    if table is None:
        return {}, problems
    bases = dict(table.bases)
    for key, base in table.bases.items():
        if base.follows is not None:
            bases[key] = base.model_copy(update={"values": table.bases[base.follows].values})
    return bases, []


def _link_amounts(proc: Procedure | Overlay, bases: dict[str, Base], rel: str) -> list[Problem]:
    problems = []
    amounts: list[tuple[str, BaseAmount]]
    if isinstance(proc, Procedure):
        amounts = base_amounts(proc)
    else:
        items = proc.fees.items if proc.fees else []
        amounts = [
            (f"fees.items.{i}.amount", f.amount) for i, f in enumerate(items) if isinstance(f.amount, BaseAmount)
        ]
    for path, amount in amounts:
        base = bases.get(amount.base)
        if base is None:
            known = ", ".join(sorted(bases)) or f"none: {BASES_FILE} not found"
            problems.append(Problem(rel, f"{path}.base", f"unknown base {amount.base!r} (known: {known})"))
        else:
            amount.link(base)
    return problems


# --- provinces and overlays ----------------------------------------------------------------------------------


def load_provinces(path: Path | None = None) -> tuple[dict[str, Province], list[Problem]]:
    """The 34 provinces and centrally governed cities (the bundled list unless `path` is given)."""
    path = path or BUNDLED / PROVINCES_DIR / PROVINCES_FILE
    rel = f"{PROVINCES_DIR}/{PROVINCES_FILE}"
    if not path.is_file():
        return {}, [Problem(rel, "-", "province list not found")]
    data, problems = _read_yaml(path, rel)
    if problems:
        return {}, problems
    plist, problems = _validate(ProvinceList, data, rel)
    return ({p.slug: p for p in plist.provinces} if plist else {}), problems


def province_slugs() -> list[str]:
    """The slugs a deployment's PROVINCE may take (from the bundled list)."""
    provinces, _ = load_provinces()
    return list(provinces)


def _load_overlays(
    folder: Path, provinces: dict[str, Province], procedures: dict[str, Procedure], bases: dict[str, Base]
) -> tuple[dict[tuple[str, str], Overlay], dict[tuple[str, str], str], list[Problem]]:
    overlays: dict[tuple[str, str], Overlay] = {}
    files: dict[tuple[str, str], str] = {}
    problems: list[Problem] = []
    if not folder.is_dir():
        return overlays, files, problems
    for path in sorted(folder.rglob("*.y*ml")):
        rel = str(path.relative_to(folder.parent))
        if path.parent == folder:
            continue  # provinces.yaml
        slug = path.parent.name
        if path.parent.parent != folder:
            problems.append(Problem(rel, "-", f"overlays go in {PROVINCES_DIR}/<province>/<procedure-id>.yaml"))
            continue
        data, errs = _read_yaml(path, rel)
        overlay, more = _validate(Overlay, data, rel) if not errs else (None, errs)
        problems += more
        if overlay is None:
            continue
        if slug not in provinces:
            problems.append(
                Problem(rel, "-", f"unknown province folder {slug!r}; see {PROVINCES_DIR}/{PROVINCES_FILE}")
            )
            continue
        if overlay.province != slug:
            problems.append(Problem(rel, "province", f"must be {slug!r}, the folder it is in"))
        if overlay.procedure not in procedures:
            problems.append(Problem(rel, "procedure", f"unknown procedure id {overlay.procedure!r}"))
            continue
        if path.stem != overlay.procedure:
            problems.append(Problem(rel, "procedure", f"file name must be {overlay.procedure}.yaml"))
        problems += _link_amounts(overlay, bases, rel)
        overlays[(slug, overlay.procedure)] = overlay
        files[(slug, overlay.procedure)] = rel
    return overlays, files, problems


def merge_overlay(proc: Procedure, province: Province, overlay: Overlay | None) -> Procedure:
    """The procedure as it applies in `province`: the overlay's facets replace the national ones."""
    context = ProvinceContext(
        slug=province.slug,
        name=province.name,
        authority=(overlay.authority if overlay and overlay.authority else province.authority),
        portal=province.portal,
        overlaid=overlay.facets() if overlay else [],
        last_reviewed=overlay.last_reviewed if overlay else None,
    )
    update: dict[str, Any] = {"province": context}
    if overlay is not None:
        for key in ("agency", "channels", "documents", "processing_time", "fees", "steps", "conditions"):
            value = getattr(overlay, key)
            if value is not None:
                update[key] = value
        if overlay.code:
            update["code"] = overlay.code
        update["notes"] = [*overlay.notes, *proc.notes]
        update["legal_basis"] = [*overlay.legal_basis, *proc.legal_basis]
        update["maintainer_notes"] = [*proc.maintainer_notes, *overlay.maintainer_notes]
        update["pointers"] = [*proc.pointers, *overlay.pointers]
    return proc.model_copy(update=update)


# --- the register of legal changes ---------------------------------------------------------------------------


def load_changes(
    path: Path, procedures: dict[str, Procedure], bases: dict[str, Base], rel: str = CHANGES_FILE
) -> tuple[list[LegalChange], list[Problem]]:
    if not path.is_file():
        return [], []
    data, problems = _read_yaml(path, rel)
    if problems:
        return [], problems
    register, problems = _validate(LegalRegister, data, rel)
    if register is None:
        return [], problems
    for i, change in enumerate(register.changes):
        for pid in change.affects:
            if pid not in procedures:
                problems.append(Problem(rel, f"changes.{i}.affects", f"unknown procedure id {pid!r} ({change.number})"))
        for key in change.bases:
            if key not in bases:
                problems.append(Problem(rel, f"changes.{i}.bases", f"unknown base {key!r} ({change.number})"))
    return register.changes, problems


@dataclass(frozen=True)
class Staleness:
    procedure: str
    reviewed: dt.date
    reasons: tuple[str, ...]


def stale_entries(kb: KnowledgeBase, *, today: dt.date, days: int) -> list[Staleness]:
    """Entries whose review is older than `days`, or older than a change in force that affects them and for which
    the register does not mark them updated."""
    out = []
    for proc in sorted(kb.procedures, key=lambda p: p.id):
        reviewed = proc.review_date()
        reasons = []
        age = (today - reviewed).days
        if age > days:
            reasons.append(f"reviewed {age} days ago (more than {days})")
        for change in pending_changes(kb.changes, proc, today=today):
            reasons.append(f"{change.number} in force {change.in_force.isoformat()}: {change.what}")
        if reasons:
            out.append(Staleness(proc.id, reviewed, tuple(reasons)))
    return out


def pending_changes(changes: list[LegalChange], proc: Procedure, *, today: dt.date) -> Iterator[LegalChange]:
    """Changes in force by `today`, newer than the entry's review, that affect it and are not marked updated."""
    reviewed = proc.review_date()
    for change in changes:
        if proc.id in change.affects and reviewed < change.in_force <= today and proc.id not in change.updated:
            yield change


# --- the whole knowledge base --------------------------------------------------------------------------------


def _read_procedures(root: Path) -> tuple[list[tuple[str, Procedure]], list[Problem]]:
    """Every valid procedure file under `root` (with its path relative to root's parent), and the problems."""
    good: list[tuple[str, Procedure]] = []
    problems: list[Problem] = []
    for path in sorted(root.rglob("*.y*ml")):
        rel = str(path.relative_to(root.parent))
        proc, errs = _load_file(path, rel)
        problems.extend(errs)
        if proc:
            good.append((rel, proc))
    problems.extend(_cross_checks(good))
    return good, problems


def _read_provinces(
    folder: Path, province: str | None, procedures: dict[str, Procedure], bases: dict[str, Base]
) -> tuple[dict[str, Province], dict[tuple[str, str], Overlay], dict[str, str], list[Problem]]:
    """The provinces, their overlays and the overlays' files ("<slug>/<id>" -> path), when there are any."""
    if not (folder.is_dir() or province is not None):
        return {}, {}, {}, []
    local_list = folder / PROVINCES_FILE
    provinces, problems = load_provinces(local_list if local_list.is_file() else None)
    overlays, overlay_files, errs = _load_overlays(folder, provinces, procedures, bases)
    files = {f"{slug}/{pid}": rel for (slug, pid), rel in overlay_files.items()}
    return provinces, overlays, files, problems + errs


def _review_warnings(good: list[tuple[str, Procedure]]) -> list[Problem]:
    warnings = []
    for rel, proc in good:
        if proc.reviewed is None:
            left = generic_claims(proc)
            detail = f"; {len(left)} claim(s) with generic sources to re-derive: {', '.join(left)}" if left else ""
            warnings.append(Problem(rel, "reviewed", f"no second-review record yet{detail}"))
    return warnings


def load_knowledge(root: Path, province: str | None = None) -> KnowledgeBase:
    """Read every `*.yaml` under `root` and the files beside it; invalid files are reported, valid ones kept.

    With `province` (a slug of provinces/provinces.yaml), each procedure is merged with that province's overlay and
    carries `province` (whose rules apply, which facets the province sets)."""
    if not root.is_dir():
        return KnowledgeBase(problems=[Problem(str(root), "-", "knowledge folder not found")])
    good, problems = _read_procedures(root)
    files = {p.id: rel for rel, p in good}
    bases, errs = load_bases(root.parent / BASES_FILE)
    problems += errs
    for rel, proc in good:
        problems += _link_amounts(proc, bases, rel)
    procedures = {p.id: p for _, p in good}
    provinces, overlays, overlay_files, errs = _read_provinces(root.parent / PROVINCES_DIR, province, procedures, bases)
    problems += errs
    files |= overlay_files
    changes, errs = load_changes(root.parent / CHANGES_FILE, procedures, bases)
    problems += errs
    warnings = _review_warnings(good)
    merged = [p for _, p in good]
    if province is not None:
        where = provinces.get(province)
        if where is None:
            problems.append(Problem(f"{PROVINCES_DIR}/{PROVINCES_FILE}", "-", f"unknown province {province!r}"))
        else:
            merged = [merge_overlay(p, where, overlays.get((province, p.id))) for p in merged]
    return KnowledgeBase(
        procedures=merged,
        problems=problems,
        warnings=warnings,
        bases=bases,
        provinces=provinces,
        overlays=overlays,
        changes=changes,
        province=province,
        files=files,
    )


def require_knowledge(root: Path, province: str | None = None) -> KnowledgeBase:
    kb = load_knowledge(root, province)
    if kb.problems:
        lines = "\n".join(str(p) for p in kb.problems[:20])
        raise KnowledgeError(f"knowledge base has {len(kb.problems)} problem(s):\n{lines}")
    if not kb.procedures:
        raise KnowledgeError(f"{root}: no procedures found")
    return kb
