"""The multi-turn dialogue set (tests/data/dialogues.jsonl) played against the bot, and its figures.

Each line is a dialogue with its `split` (tune: for choosing cue lists and thresholds; measure: for the figures the
test enforces), the citizen's `style` and, per turn, what is expected (or null when a turn is not measured):
`kind` (first, followup, switch, offtopic, press), the `procedure` and `facet` the turn must be answered for, a
`fact` from the entry's own text that a specific question's reply must show in its first 500 characters, and for
a date question the `date` the estimate must give. Dialogues run with the clock pinned to NOW.

Run it alone to see the figures and the misses: `.venv/bin/python -m tests.bot.conversation.dialogues [--split tune]`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.conversation.core import Conversation
from bot.conversation.script import play
from bot.replies import messages as m
from bot.services import Services
from bot.settings import Settings
from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from knowledge.loader import KnowledgeBase, require_knowledge
from knowledge.matcher import Matcher
from knowledge.national import load_national
from knowledge.text import fold

ROOT = Path(__file__).resolve().parents[3]
DIALOGUES = ROOT / "tests" / "data" / "dialogues.jsonl"
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))  # a Wednesday
FIRST_CHARS = 500
REFUSAL = fold(m.OUT_OF_SCOPE.split(",")[0])


def load(split: str | None = None) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in DIALOGUES.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]


@dataclass
class Figures:
    counts: dict[str, list[int]] = field(default_factory=dict)  # metric -> [hits, total]
    misses: list[str] = field(default_factory=list)

    def add(self, metric: str, ok: bool, why: str) -> None:
        hit = self.counts.setdefault(metric, [0, 0])
        hit[0] += ok
        hit[1] += 1
        if not ok:
            self.misses.append(f"{metric}: {why}")

    def rate(self, metric: str) -> float:
        hits, total = self.counts.get(metric, [0, 0])
        return hits / total if total else 1.0

    def table(self) -> str:
        return "\n".join(f"{k:22} {v[0]:4}/{v[1]:<4} {self.rate(k):6.1%}" for k, v in sorted(self.counts.items()))


def score(dialogues: Sequence[dict[str, Any]], played: dict[str, list[dict[str, Any]]]) -> Figures:
    fig = Figures()
    for d in dialogues:
        recs = played[d["id"]]
        for i, (exp, rec) in enumerate(zip(d["expect"], recs, strict=True)):
            if exp:
                _score_turn(fig, d, i, exp, rec, recs[i + 1] if i + 1 < len(recs) else None)
    return fig


def _score_turn(fig: Figures, d: dict[str, Any], i: int, exp: dict[str, Any], rec: dict[str, Any], nxt: Any) -> None:
    where = f"{d['id']}#{i} {d['turns'][i]!r} -> {rec['intent']} {rec['procedure']} {rec['facet']}"
    kind = exp["kind"]
    if kind == "offtopic":
        refused = rec["intent"] == "out_of_scope" or fold(rec["text"]).startswith(REFUSAL)
        nexp = d["expect"][i + 1] if i + 1 < len(d["expect"]) else None
        kept = nxt is None or not nexp or nexp.get("procedure") in (None, nxt["procedure"])
        fig.add("offtopic", refused and kept, where + ("" if refused else " (not refused)"))
        return
    ok_proc = rec["procedure"] == exp["procedure"] and rec["confident"]
    metric = {"followup": "followup_procedure", "switch": "switch", "first": "first_procedure", "press": "press"}[kind]
    fig.add(metric, ok_proc, f"{where} (want {exp['procedure']})")
    if kind == "followup" and exp.get("facet"):
        fig.add("followup_facet", rec["facet"] == exp["facet"], f"{where} (want facet {exp['facet']})")
    if exp.get("fact"):
        seen = fold(rec["text"][:FIRST_CHARS])
        fig.add("specific", fold(exp["fact"]) in seen, f"{where} (want {exp['fact']!r})")
    if exp.get("date"):
        fig.add("date", exp["date"] in rec["text"], f"{where} (want {exp['date']})")


async def play_all(conv: Conversation, dialogues: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for n, d in enumerate(dialogues):
        out[d["id"]] = await play(conv, 800_000_000 + n, d["id"], d["turns"])
    return out


async def run(dialogues: Sequence[dict[str, Any]], kb: KnowledgeBase, matcher: Matcher, tmp: Path) -> Figures:
    """Every dialogue in a fresh chat, on a migrated SQLite database of its own, the clock pinned to NOW."""
    url = f"sqlite+aiosqlite:///{tmp / 'dialogues.db'}"
    settings = Settings(  # type: ignore[call-arg]  # _env_file is pydantic-settings' own argument
        database_url=url, data_dir=tmp, secret_key="dialogue-test-secret-0123456789-abcdef", _env_file=None
    )
    await asyncio.to_thread(upgrade, settings, url)
    engine = make_engine(settings)
    conv = Conversation(Services(settings, kb, matcher, engine), clock=lambda: NOW)
    try:
        return score(dialogues, await play_all(conv, dialogues))
    finally:
        await conv.close()
        await engine.dispose()


def main(argv: Sequence[str]) -> None:
    split = argv[argv.index("--split") + 1] if "--split" in argv else "tune"
    kb = require_knowledge(ROOT / "knowledge" / "procedures")
    with tempfile.TemporaryDirectory() as tmp:
        fig = asyncio.run(run(load(split), kb, Matcher(kb.procedures, national=load_national()), Path(tmp)))
    print("\n".join(fig.misses))
    print(fig.table())


if __name__ == "__main__":
    main(sys.argv[1:])
