"""Top-1/top-3 of tthc-bot's matcher beside two plain baselines, on the same split of the question set.

Baselines: rapidfuzz WRatio over procedure names; BM25 (bm25s) over diacritic-free syllables and syllable
bigrams of names and aliases. Run: .venv/bin/python benchmarks/quality_baselines.py [--split measure]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bm25s  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402

from knowledge.evaluation import evaluate, read_questions  # noqa: E402
from knowledge.loader import require_knowledge  # noqa: E402
from knowledge.matcher import Matcher  # noqa: E402
from knowledge.text import fold  # noqa: E402


def tokens(text: str) -> list[str]:
    syl = fold(text).split()
    return syl + [f"{a}_{b}" for a, b in zip(syl, syl[1:], strict=False)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="measure")
    split = ap.parse_args().split
    kb = require_knowledge(ROOT / "knowledge" / "procedures")
    rows = read_questions(ROOT / "tests" / "data" / "questions.tsv", split)
    proc_rows = [r for r in rows if not r.expect.startswith("@")]
    ids = [p.id for p in kb.procedures]
    names = [fold(p.name) for p in kb.procedures]
    bm = bm25s.BM25()
    bm.index([tokens(" ".join([p.name, *p.aliases])) for p in kb.procedures], show_progress=False)

    def score(rank) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        t1 = sum(rank(r.q)[:1] == [r.expect] for r in proc_rows)
        t3 = sum(r.expect in rank(r.q)[:3] for r in proc_rows)
        return t1 / len(proc_rows), t3 / len(proc_rows)

    wr = score(lambda q: [ids[i] for _, _, i in process.extract(fold(q), names, scorer=fuzz.WRatio, limit=3)])
    bm_scores = lambda q: bm.get_scores([t for t in tokens(q) if t in bm.vocab_dict])  # noqa: E731
    b25 = score(lambda q: [ids[i] for i in (-bm_scores(q)).argsort()[:3]])
    ours = evaluate(Matcher(kb.procedures), rows).summary()
    print(f"split {split}: {len(proc_rows)} procedure questions of {len(rows)}")
    print("| method | top-1 | top-3 |\n|---|---|---|")
    print(f"| rapidfuzz WRatio over names | {wr[0]:.1%} | {wr[1]:.1%} |")
    print(f"| BM25 over syllables + bigrams of names and aliases | {b25[0]:.1%} | {b25[1]:.1%} |")
    print(f"| tthc-bot matcher | {ours['top1']:.1%} | {ours['top3']:.1%} |")


if __name__ == "__main__":
    main()
