"""Matcher speed and memory: with the full national index beside our procedures, and at synthetic sizes.

Two-tier run (default): `Matcher(procedures, national=load_national())` over the `measure` questions of
tests/data/questions.tsv and tests/data/questions_national.tsv, beside two plain baselines over the same corpus
(our names and aliases, every national name and alias): BM25 (bm25s) over diacritic-free syllables and syllable
bigrams, and rapidfuzz WRatio. Start-up is loading the index plus building the matcher, in a fresh process.
Synthetic sizes (--sizes): copies of the 67 procedures with numbered ids, names and aliases, as before.

Run: .venv/bin/python benchmarks/bench_matcher.py [--sizes 67,2000,10000] [--no-national]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bm25s  # noqa: E402
from rapidfuzz import fuzz, process  # noqa: E402

from knowledge.evaluation import read_questions  # noqa: E402
from knowledge.loader import require_knowledge  # noqa: E402
from knowledge.matcher import Matcher  # noqa: E402
from knowledge.national import load_national  # noqa: E402
from knowledge.text import fold  # noqa: E402

DATA = ROOT / "tests" / "data"


def synthetic(procs, n):  # type: ignore[no-untyped-def]
    out = list(procs)
    i = 0
    while len(out) < n:
        p = procs[i % len(procs)]
        k = len(out)
        out.append(
            p.model_copy(
                update={"id": f"{p.id}-{k}", "name": f"{p.name} {k}", "aliases": [f"{a} {k}" for a in p.aliases]}
            )
        )
        i += 1
    return out[:n]


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def timed(fn, questions: list[str], cpu: list[float] | None = None) -> list[float]:  # type: ignore[no-untyped-def]
    """Wall-clock milliseconds per question; with `cpu`, also this process's CPU milliseconds (what the code
    costs, whatever else the machine is doing)."""
    lat = []
    for q in questions:
        t, c = time.perf_counter(), time.process_time()
        fn(q)
        lat.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - c) * 1000)
    return lat


def bench(procs, questions):  # type: ignore[no-untyped-def]
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    m = Matcher(procs)
    build = time.perf_counter() - t0
    mem = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    lat = timed(m.understand, questions)
    choices = [fold(x) for p in procs for x in [p.name, *p.aliases]]
    base_lat = timed(lambda q: process.extract(fold(q), choices, scorer=fuzz.WRatio, limit=5), questions)
    return build, mem, lat, base_lat


def tokens(text: str) -> list[str]:
    syl = fold(text).split()
    return syl + [f"{a}_{b}" for a, b in zip(syl, syl[1:], strict=False)]


STARTUP = """
import json, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {root!r})
from knowledge.loader import require_knowledge
from knowledge.matcher import Matcher
from knowledge.national import load_national
t1 = time.perf_counter()
kb = require_knowledge(__import__("pathlib").Path({root!r}) / "knowledge" / "procedures")
t2 = time.perf_counter()
c2 = time.process_time()
index = load_national()
t3 = time.perf_counter()
m = Matcher(kb.procedures, national=index)
t4 = time.perf_counter()
c4 = time.process_time()
m.understand("đăng ký tạm trú cần gì")
import resource
print(json.dumps({{"imports": t1 - t0, "kb": t2 - t1, "index": t3 - t2, "matcher": t4 - t3, "total": t4 - t0,
                  "index_matcher_cpu": c4 - c2,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def two_tier(kb) -> None:  # type: ignore[no-untyped-def]
    questions = [r.q for f in ("questions.tsv", "questions_national.tsv") for r in read_questions(DATA / f, "measure")]
    runs = [
        json.loads(
            subprocess.run(
                [sys.executable, "-c", STARTUP.format(root=str(ROOT))], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(3)
    ]
    gc.collect()
    tracemalloc.start()
    index = load_national()
    m = Matcher(kb.procedures, national=index)
    mem = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    timed(m.understand, questions[:50])  # warm caches, as a running bot is
    cpu: list[float] = []
    lat = timed(m.understand, questions, cpu)
    texts = [" ".join([p.name, *p.aliases]) for p in kb.procedures]
    texts += [" ".join([n.name, *n.aliases]) for n in index.procedures]
    bm = bm25s.BM25()
    bm.index([tokens(t) for t in texts], show_progress=False)

    def bm_top(q: str) -> list[int]:
        known = [t for t in tokens(q) if t in bm.vocab_dict]
        return [int(i) for i in bm.get_scores(known).argsort()[-5:]] if known else []

    bm_cpu: list[float] = []
    bm_lat = timed(bm_top, questions, bm_cpu)
    choices = [fold(t) for t in texts]
    rf_cpu: list[float] = []
    rf_lat = timed(lambda q: process.extract(fold(q), choices, scorer=fuzz.WRatio, limit=5), questions[:100], rf_cpu)
    print(f"two tiers: {len(kb.procedures)} of ours + {len(index)} national procedures; {len(questions)} questions")
    print("| method | p50 | p99 | max | CPU p50 | CPU p99 |\n|---|---|---|---|---|---|")
    for name, xs, cs in (
        ("tthc-bot matcher", lat, cpu),
        ("BM25 (bm25s), names and aliases", bm_lat, bm_cpu),
        ("rapidfuzz WRatio, names and aliases (100 questions)", rf_lat, rf_cpu),
    ):
        print(
            f"| {name} | {statistics.median(xs):.2f} ms | {pct(xs, 0.99):.2f} ms | {max(xs):.2f} ms "
            f"| {statistics.median(cs):.2f} ms | {pct(cs, 0.99):.2f} ms |"
        )
    print(f"load average during the run: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    best = min(runs, key=lambda r: r["total"])
    print(f"\nmatcher memory (tracemalloc, index + matcher): {mem:.0f} MB")
    print(
        "start-up in a fresh process (best of 3): "
        + ", ".join(f"{k} {best[k]:.2f} s" for k in ("imports", "kb", "index", "matcher", "total"))
        + f" (index + matcher: {best['index_matcher_cpu']:.2f} s of CPU)"
        + f"; peak RSS {max(r['rss_mb'] for r in runs):.0f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="")
    ap.add_argument("--no-national", action="store_true")
    args = ap.parse_args()
    kb = require_knowledge(ROOT / "knowledge" / "procedures")
    if not args.no_national:
        two_tier(kb)
    if args.sizes:
        questions = [r.q for r in read_questions(DATA / "questions.tsv", "measure")]
        print("\n| procedures | index build | p50 | p99 | matcher memory | baseline p50 | baseline p99 |")
        print("|---|---|---|---|---|---|---|")
        for n in (int(x) for x in args.sizes.split(",")):
            build, mem, lat, base = bench(synthetic(kb.procedures, n), questions)
            print(
                f"| {n:,} | {build:.2f} s | {statistics.median(lat):.2f} ms | {pct(lat, 0.99):.2f} ms | {mem:.0f} MB "
                f"| {statistics.median(base):.2f} ms | {pct(base, 0.99):.2f} ms |",
                flush=True,
            )
    print(f"\npeak RSS of the whole run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
