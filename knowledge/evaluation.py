"""Quality of the matcher on a labelled question set (the format of shared/questions.sample.tsv).

Columns: expect, facet, style, q; an optional `split` column (tune/measure) lets one file hold both the part we
tune on and the part we measure on. `expect` is one of:
- a procedure id of our knowledge base ("ho-tich.dang-ky-khai-sinh"): the curated answer must come first;
- national codes separated by "|" ("1.014171|1.014172"): a question about a procedure only the national index
  has; a pointer to any of these codes is right (the catalogue lists one procedure under several codes, by level);
  a procedure id among them means our procedure is a right answer too;
- "@intent" ("@out_of_scope", "@greeting", …).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from knowledge.matcher import Match, Matcher, Understanding

_CODE = re.compile(r"^\d\.\d{6,7}$")


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

    @property
    def alternatives(self) -> tuple[str, ...]:
        return tuple(x.strip() for x in self.expect.split("|")) if not self.expect.startswith("@") else ()

    @property
    def tier(self) -> str:
        """ "national" when the first acceptable answer is a national code, "curated" for one of our procedures,
        "" for a question that is not about a procedure."""
        alts = self.alternatives
        if not alts:
            return ""
        return "national" if _CODE.match(alts[0]) else "curated"

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(a for a in self.alternatives if _CODE.match(a))

    def answered_by(self, match: Match) -> bool:
        """Whether this match is a right answer: a pointer to one of the codes, or one of our procedures named
        among the alternatives (where our explanation covers the question too: "mất bằng tốt nghiệp" is both
        the national re-issue and our copy-from-the-register procedure)."""
        if match.tier == "national":
            return match.code in self.codes
        return match.id in self.alternatives


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
    procedure_rows: int = 0  # curated questions ("top1"/"top3" are theirs, as before the national index)
    top1: int = 0
    top3: int = 0
    confident: int = 0  # curated questions answered at once (confident and right)
    national_rows: int = 0
    national_top1: int = 0
    national_top3: int = 0
    national_confident: int = 0
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
            "confident": self.rate(self.confident, self.procedure_rows),
            "national_top1": self.rate(self.national_top1, self.national_rows),
            "national_top3": self.rate(self.national_top3, self.national_rows),
            "national_confident": self.rate(self.national_confident, self.national_rows),
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
        matches = u.matches if u.intent == "procedure" else []
        top1 = bool(matches) and row.answered_by(matches[0])
        top3 = any(row.answered_by(m) for m in matches[:3])
        if row.tier == "curated":
            rep.procedure_rows += 1
            rep.top1 += top1
            rep.top3 += top3
            rep.confident += top1 and u.confident
        elif row.tier == "national":
            rep.national_rows += 1
            rep.national_top1 += top1
            rep.national_top3 += top3
            rep.national_confident += top1 and u.confident
        if row.tier and row.facet and row.tier == "curated":
            rep.facet_rows += 1
            rep.facet_ok += u.facet == row.facet
        if not row.tier:
            rep.intent_rows += 1
            rep.intent_ok += u.intent == row.intent
            if row.intent == "out_of_scope":
                rep.oos_rows += 1
                rep.oos_ok += u.intent == "out_of_scope"
        wrong = not top1 if row.tier else u.intent != row.intent
        if u.intent == "procedure" and u.confident and (not row.tier or not top1):
            rep.confident_wrong += 1
        if wrong:
            rep.errors.append((row, u))
    return rep
