"""Quality of the matcher on a labelled question set (the format of shared/questions.sample.tsv).

Columns: expect (procedure id or @intent), facet, style, q; an optional `split` column
(tune/measure) lets one file hold both the part we tune on and the part we measure on.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.matcher import Matcher, Understanding


@dataclass(frozen=True)
class Row:
    expect: str
    facet: str | None
    style: str
    q: str
    split: str = ""

    @property
    def intent(self) -> str:
        return self.expect[1:] if self.expect.startswith("@") else "procedure"


def read_questions(path: Path, split: str | None = None) -> list[Row]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = [
            Row(
                r["expect"].strip(),
                (r.get("facet") or "").strip() or None,
                (r.get("style") or "").strip(),
                r["q"],
                (r.get("split") or "").strip(),
            )
            for r in reader
            if r.get("expect") and not r["expect"].startswith("#")
        ]
    return [r for r in rows if split is None or r.split == split]


@dataclass
class Report:
    n: int = 0
    procedure_rows: int = 0
    top1: int = 0
    top3: int = 0
    facet_rows: int = 0
    facet_ok: int = 0
    oos_rows: int = 0
    oos_ok: int = 0
    intent_rows: int = 0
    intent_ok: int = 0
    confident_wrong: int = 0
    errors: list[tuple[Row, Understanding]] = field(default_factory=list)

    def rate(self, a: int, b: int) -> float:
        return a / b if b else 1.0

    def summary(self) -> dict[str, float]:
        return {
            "questions": self.n,
            "top1": self.rate(self.top1, self.procedure_rows),
            "top3": self.rate(self.top3, self.procedure_rows),
            "facet": self.rate(self.facet_ok, self.facet_rows),
            "out_of_scope": self.rate(self.oos_ok, self.oos_rows),
            "intents": self.rate(self.intent_ok, self.intent_rows),
            "confident_wrong": self.rate(self.confident_wrong, self.n),
        }


def evaluate(matcher: Matcher, rows: Iterable[Row]) -> Report:
    rep = Report()
    for row in rows:
        u = matcher.understand(row.q)
        rep.n += 1
        ids = [m.id for m in u.matches] if u.intent == "procedure" else []
        wrong = False
        if row.intent == "procedure":
            rep.procedure_rows += 1
            rep.top1 += ids[:1] == [row.expect]
            rep.top3 += row.expect in ids[:3]
            wrong = ids[:1] != [row.expect]
            if row.facet:
                rep.facet_rows += 1
                rep.facet_ok += u.facet == row.facet
        else:
            rep.intent_rows += 1
            rep.intent_ok += u.intent == row.intent
            if row.intent == "out_of_scope":
                rep.oos_rows += 1
                rep.oos_ok += u.intent == "out_of_scope"
            wrong = u.intent != row.intent
        if u.intent == "procedure" and u.confident and (row.intent != "procedure" or ids[:1] != [row.expect]):
            rep.confident_wrong += 1
        if wrong:
            rep.errors.append((row, u))
    return rep
