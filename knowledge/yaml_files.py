"""Reading one YAML file of the knowledge base and validating it against its model, as `Problem`s.

Problems are collected, never raised (see `knowledge/loader.py`, which re-exports `Problem`): text is NFC before
validation, and pydantic's errors are worded for the maintainer editing the file.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Problem:
    file: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.message}"


def _nfc(obj: object) -> object:
    if isinstance(obj, str):
        return unicodedata.normalize("NFC", obj)
    if isinstance(obj, list):
        return [_nfc(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _nfc(v) for k, v in obj.items()}
    return obj


def _read_yaml(path: Path, rel: str) -> tuple[Any, list[Problem]]:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")), []
    except UnicodeDecodeError as exc:
        return None, [Problem(rel, "-", f"not UTF-8 ({exc.reason})")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "-"
        return None, [Problem(rel, where, f"malformed YAML: {getattr(exc, 'problem', exc)}")]


def _message(err: Any) -> str:
    loc = [str(p) for p in err["loc"]]
    if err["type"] == "missing" and loc and loc[-1] == "sources":
        return "a claim needs `sources`: a list of {title, url, checked} (official texts or pages)"
    if err["type"] == "too_short" and loc and loc[-1] == "sources":
        return "a claim needs at least one source"
    msg: str = err["msg"]
    return msg.removeprefix("Value error, ")


def _validate(model: type[M], data: Any, rel: str) -> tuple[M | None, list[Problem]]:
    if not isinstance(data, dict):
        return None, [Problem(rel, "-", "expected a mapping of fields at the top level")]
    try:
        return model.model_validate(_nfc(data)), []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            # a union (an amount: đồng or a base multiple) reports each branch; name the field once
            loc = ".".join(str(p) for p in err["loc"] if p not in ("int", "BaseAmount")) or "-"
            problems.append(Problem(rel, loc, _message(err)))
        return None, list(dict.fromkeys(problems))
