"""Top-1/top-3 of tthc-bot's matcher beside two plain baselines, on the same split of the question sets.

Our procedures only (tests/data/questions.tsv): rapidfuzz WRatio over procedure names; BM25 (bm25s) over
diacritic-free syllables and syllable bigrams of names and aliases; the matcher.
Two tiers (both question files): the same BM25 and rapidfuzz over our names and aliases plus every national name
(and the hand-written national aliases), scored on our questions (does the national catalogue drown ours?) and on
index-only questions (is the right national code first?); the two-tier matcher.
Run: .venv/bin/python benchmarks/quality_baselines.py [--split measure]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bm25s  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402

from knowledge.evaluation import Row, evaluate, read_questions  # noqa: E402
from knowledge.loader import require_knowledge  # noqa: E402
from knowledge.matcher import Matcher  # noqa: E402
from knowledge.national import load_national  # noqa: E402
from knowledge.text import fold  # noqa: E402

DATA = ROOT / "tests" / "data"


def tokens(text: str) -> list[str]:
    syl = fold(text).split()
    return syl + [f"{a}_{b}" for a, b in zip(syl, syl[1:], strict=False)]


def score(rank: Callable[[str], list[str]], rows: list[Row]) -> tuple[float, float]:
    """Top-1 and top-3 of a ranker that returns ids (our procedure ids, or national codes)."""
    if not rows:
        return 1.0, 1.0
    t1 = t3 = 0
    for r in rows:
        got = rank(r.q)[:3]
        ok = [g in r.alternatives for g in got]
        t1 += bool(ok[:1] and ok[0])
        t3 += any(ok)
    return t1 / len(rows), t3 / len(rows)


def bm25_ranker(ids: list[str], texts: list[str]) -> Callable[[str], list[str]]:
    bm = bm25s.BM25()
    bm.index([tokens(t) for t in texts], show_progress=False)

    def rank(q: str) -> list[str]:
        known = [t for t in tokens(q) if t in bm.vocab_dict]
        return [ids[i] for i in (-bm.get_scores(known)).argsort()[:3]] if known else []

    return rank


def fuzz_ranker(ids: list[str], texts: list[str]) -> Callable[[str], list[str]]:
    folded = [fold(t) for t in texts]
    return lambda q: [ids[i] for _, _, i in process.extract(fold(q), folded, scorer=fuzz.WRatio, limit=3)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="measure")
    split = ap.parse_args().split
    kb = require_knowledge(ROOT / "knowledge" / "procedures")
    rows = read_questions(DATA / "questions.tsv", split)
    proc_rows = [r for r in rows if r.tier == "curated"]
    ids = [p.id for p in kb.procedures]
    wr = score(fuzz_ranker(ids, [p.name for p in kb.procedures]), proc_rows)
    b25 = score(bm25_ranker(ids, [" ".join([p.name, *p.aliases]) for p in kb.procedures]), proc_rows)
    ours = evaluate(Matcher(kb.procedures), rows).summary()
    print(f"split {split}, our procedures only: {len(proc_rows)} procedure questions of {len(rows)}")
    print("| method | top-1 | top-3 |\n|---|---|---|")
    print(f"| rapidfuzz WRatio over names | {wr[0]:.1%} | {wr[1]:.1%} |")
    print(f"| BM25 over syllables + bigrams of names and aliases | {b25[0]:.1%} | {b25[1]:.1%} |")
    print(f"| tthc-bot matcher | {ours['top1']:.1%} | {ours['top3']:.1%} |")

    index = load_national()
    covered = {p.code for p in kb.procedures if p.code} | set(index.curated)
    national = [n for n in index.procedures if n.code not in covered]
    all_ids = ids + [n.code for n in national]
    names = [p.name for p in kb.procedures] + [n.name for n in national]
    with_aliases = [" ".join([p.name, *p.aliases]) for p in kb.procedures]
    with_aliases += [" ".join([n.name, *n.aliases]) for n in national]
    both = rows + read_questions(DATA / "questions_national.tsv", split)
    cur = [r for r in both if r.tier == "curated"]
    nat = [r for r in both if r.tier == "national"]
    bm_names = bm25_ranker(
        all_ids, [" ".join([p.name, *p.aliases]) for p in kb.procedures] + [n.name for n in national]
    )
    bm_all = bm25_ranker(all_ids, with_aliases)
    rf = fuzz_ranker(all_ids, names)
    two = evaluate(Matcher(kb.procedures, national=index), both).summary()
    print(f"\nsplit {split}, two tiers ({len(kb.procedures)} + {len(national)} procedures):")
    print(f"{len(cur)} questions about ours, {len(nat)} about index-only procedures")
    print("| method | ours top-1 | ours top-3 | index-only top-1 | index-only top-3 |\n|---|---|---|---|---|")
    for label, ranker in (
        ("rapidfuzz WRatio over all names", rf),
        ("BM25, our names and aliases + national names", bm_names),
        ("BM25, our names and aliases + national names and aliases", bm_all),
    ):
        a, b = score(ranker, cur)
        c, d = score(ranker, nat)
        print(f"| {label} | {a:.1%} | {b:.1%} | {c:.1%} | {d:.1%} |")
    print(
        f"| tthc-bot matcher | {two['top1']:.1%} | {two['top3']:.1%} | {two['national_top1']:.1%} "
        f"| {two['national_top3']:.1%} |"
    )
    print(
        f"\ntthc-bot, all questions of the split: confident but wrong {two['confident_wrong']:.2%}, "
        f"off topic refused {two['out_of_scope']:.1%}, our questions answered at once {two['confident']:.1%}, "
        f"index-only answered at once {two['national_confident']:.1%}"
    )


if __name__ == "__main__":
    main()
