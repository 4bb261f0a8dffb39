"""Loads and checks the procedure YAML files.

Problems are collected rather than raised so that `kb validate` can list all of them at once,
each as `file: field: message`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from knowledge.schema import Procedure
from knowledge.text import fold, slugify


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


@dataclass
class KnowledgeBase:
    procedures: list[Procedure] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

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


def _nfc(obj: object) -> object:
    if isinstance(obj, str):
        return unicodedata.normalize("NFC", obj)
    if isinstance(obj, list):
        return [_nfc(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _nfc(v) for k, v in obj.items()}
    return obj


def _load_file(path: Path, rel: str) -> tuple[Procedure | None, list[Problem]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        return None, [Problem(rel, "-", f"not UTF-8 ({exc.reason})")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "-"
        return None, [Problem(rel, where, f"malformed YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(data, dict):
        return None, [Problem(rel, "-", "expected a mapping of fields at the top level")]
    try:
        return Procedure.model_validate(_nfc(data)), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"]) or "-"
            problems.append(Problem(rel, loc, err["msg"]))
        return None, problems


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


def load_knowledge(root: Path) -> KnowledgeBase:
    """Read every `*.yaml` under `root`; invalid files are reported, valid ones kept."""
    if not root.is_dir():
        return KnowledgeBase(problems=[Problem(str(root), "-", "knowledge folder not found")])
    good: list[tuple[str, Procedure]] = []
    problems: list[Problem] = []
    for path in sorted(root.rglob("*.y*ml")):
        rel = str(path.relative_to(root.parent))
        proc, errs = _load_file(path, rel)
        problems.extend(errs)
        if proc:
            good.append((rel, proc))
    problems.extend(_cross_checks(good))
    return KnowledgeBase(procedures=[p for _, p in good], problems=problems)


def require_knowledge(root: Path) -> KnowledgeBase:
    kb = load_knowledge(root)
    if kb.problems:
        lines = "\n".join(str(p) for p in kb.problems[:20])
        raise KnowledgeError(f"knowledge base has {len(kb.problems)} problem(s):\n{lines}")
    if not kb.procedures:
        raise KnowledgeError(f"{root}: no procedures found")
    return kb
