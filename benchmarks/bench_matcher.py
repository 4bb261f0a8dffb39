"""Matcher speed and memory at 67, 2,000 and 10,000 procedures, beside a naive rapidfuzz baseline.

Synthetic knowledge bases are built from the real procedures (ids, names and aliases get a numeric suffix so
each copy is distinct). Questions: the `measure` split of tests/data/questions.tsv.
Run: .venv/bin/python benchmarks/bench_matcher.py [--sizes 67,2000,10000]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rapidfuzz import fuzz, process  # noqa: E402

from knowledge.evaluation import read_questions  # noqa: E402
from knowledge.loader import require_knowledge  # noqa: E402
from knowledge.matcher import Matcher  # noqa: E402
from knowledge.text import fold  # noqa: E402


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


def bench(procs, questions):  # type: ignore[no-untyped-def]
    gc.collect()
    tracemalloc.start()
    t0 = time.perf_counter()
    m = Matcher(procs)
    build = time.perf_counter() - t0
    mem = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    lat = []
    for q in questions:
        t = time.perf_counter()
        m.understand(q)
        lat.append((time.perf_counter() - t) * 1000)
    choices = [fold(x) for p in procs for x in [p.name, *p.aliases]]
    t0 = time.perf_counter()
    base_lat = []
    for q in questions:
        t = time.perf_counter()
        process.extract(fold(q), choices, scorer=fuzz.WRatio, limit=5)
        base_lat.append((time.perf_counter() - t) * 1000)
    return build, mem, lat, base_lat


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="67,2000,10000")
    args = ap.parse_args()
    kb = require_knowledge(ROOT / "knowledge" / "procedures")
    questions = [r.q for r in read_questions(ROOT / "tests" / "data" / "questions.tsv", "measure")]
    print("| procedures | index build | p50 | p99 | matcher memory | baseline p50 | baseline p99 |")
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
