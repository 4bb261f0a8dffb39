"""Case import speed (`tthc-bot cases import`) on SQLite, and on PostgreSQL with --pg, beside a baseline.

A synthetic CSV of --rows cases (default 100,000) with realistic values: receipt codes of four agencies,
Vietnamese names, phone numbers, procedure ids of the real knowledge base, dates in dd/mm/yyyy (and some
ISO), every status with what it needs (note, new appointment date, missing documents).
For each backend, on a freshly migrated database:

* baseline: `csv.reader` + one `executemany` INSERT of the same rows, as text, into a plain staging
  table (no decoding detection, no validation, no upsert, no history) with the synchronous driver;
* first import: every row is a new case (creates the cases and their history);
* same file again: nothing changes (the idempotency check; the run asserts it);
* update: a copy of the file where --changes (default 1%) of the cases move on one status, each such
  case followed by one chat, so every changed row goes through `set_status` and queues a notification.

PostgreSQL: --pg is a server URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres); a
throw-away database is created there and dropped afterwards.
Run: .venv/bin/python benchmarks/bench_import.py [--rows 100000] [--pg URL]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import datetime as dt
import random
import resource
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import insert  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlmodel import select  # noqa: E402

from bot.settings import Settings  # noqa: E402
from bot.staff.importing import import_file  # noqa: E402
from bot.storage.db import make_engine, session_scope  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.models import Case, Subscription  # noqa: E402
from knowledge.loader import require_knowledge  # noqa: E402

HEADER = [
    "code",
    "procedure_id",
    "agency",
    "office",
    "applicant_name",
    "phone",
    "birth_year",
    "received_at",
    "appointment_date",
    "channel",
    "return_method",
    "fee",
    "status",
    "note",
    "new_appointment_date",
    "missing_documents",
]
AGENCIES = ["000.00.15.H57", "000.00.31.H29", "000.00.12.H01", "000.00.20.H79"]
FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Vũ",
    "Võ",
    "Phan",
    "Trương",
    "Bùi",
    "Đặng",
    "Đỗ",
    "Ngô",
    "Hồ",
    "Dương",
    "Lý",
]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thu", "Ngọc", "Quốc", "Thanh", "Xuân", "Hoài", "Khánh"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dung",
    "Em",
    "Hoa",
    "Huy",
    "Lan",
    "Khang",
    "Mai",
    "Nam",
    "Oanh",
    "Phúc",
    "Quỳnh",
    "Sơn",
    "Tâm",
    "Uyên",
    "Việt",
    "Xuân",
    "Yến",
    "Đạt",
    "Hưng",
    "Thảo",
    "Trang",
    "Tuấn",
    "Hằng",
    "Long",
]
STATUS_WEIGHTS = {
    "received": 20,
    "in_progress": 30,
    "need_supplement": 8,
    "ready_for_pickup": 12,
    "returned": 20,
    "overdue": 5,
    "rejected": 3,
    "withdrawn": 2,
}
NEXT = {
    "received": "in_progress",
    "in_progress": "ready_for_pickup",
    "ready_for_pickup": "returned",
    "need_supplement": "in_progress",
    "overdue": "ready_for_pickup",
}
FEES = ["", "", "0", "15000", "50.000", "100000", "200.000"]


def generate(path: Path, rows: int, kb, seed: int = 20261126) -> list[list[str]]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    procs = kb.procedures
    statuses, weights = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    start = dt.date(2026, 1, 5)
    out = []
    for i in range(rows):
        proc = procs[rng.randrange(len(procs))]
        day = start + dt.timedelta(days=i * 320 // rows)
        received = dt.datetime.combine(day, dt.time(7 + rng.randrange(10), rng.choice((0, 15, 30, 45))))
        due = day + dt.timedelta(days=rng.choice((0, 3, 5, 7, 10, 15, 30)))
        status = rng.choices(statuses, weights)[0]
        iso = rng.random() < 0.2
        note = new_date = missing = ""
        if status == "overdue":
            new_date, note = (due + dt.timedelta(days=7)).strftime("%d/%m/%Y"), "Cần thêm thời gian xác minh"
        elif status == "rejected":
            note = "Hồ sơ không thuộc thẩm quyền giải quyết"
        elif status == "need_supplement":
            missing = "; ".join(d.name for d in proc.documents[:2])
        out.append(
            [
                f"{AGENCIES[i % 4]}-{day:%y%m%d}-{i % 100000:05d}",
                proc.id,
                proc.agency.name,
                proc.agency.where,
                f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                rng.choice(("09", "03", "08", "07")) + "".join(str(rng.randrange(10)) for _ in range(8)),
                str(rng.randint(1950, 2006)) if rng.random() < 0.7 else "",
                received.isoformat(timespec="minutes") if iso else received.strftime("%d/%m/%Y %H:%M"),
                due.isoformat() if iso else due.strftime("%d/%m/%Y"),
                rng.choice(("truc-tiep", "truc-tiep", "truc-tuyen", "buu-chinh")),
                rng.choice(("truc-tiep", "buu-chinh")),
                rng.choice(FEES),
                status,
                note,
                new_date,
                missing,
            ]
        )
    write(path, out)
    return out


def write(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)


def advanced(rows: list[list[str]], share: float, seed: int = 7) -> tuple[list[list[str]], list[str]]:
    """A copy where `share` of all cases (picked among those that can move on) move one status;
    returns the moved codes."""
    movable = [i for i, r in enumerate(rows) if r[12] in NEXT]
    picked = set(random.Random(seed).sample(movable, min(len(movable), round(share * len(rows)))))
    out, moved = [], []
    for i, r in enumerate(rows):
        if i in picked:
            r = list(r)
            r[12], r[13], r[15] = NEXT[r[12]], "", ""
            moved.append(r[0])
        out.append(r)
    return out, moved


STAGING = "CREATE TABLE bench_staging (" + ", ".join(f"{c} TEXT" for c in HEADER) + ")"
INSERT = f"INSERT INTO bench_staging VALUES ({', '.join(['%s'] * len(HEADER))})"


def baseline_sqlite(path: Path, db: Path) -> float:
    t = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        con = sqlite3.connect(db)
        con.execute(STAGING)
        con.executemany(INSERT.replace("%s", "?"), reader)
        con.commit()
        con.close()
    return time.perf_counter() - t


def baseline_pg(path: Path, conninfo: str) -> float:
    t = time.perf_counter()
    with open(path, encoding="utf-8-sig", newline="") as fh, psycopg.connect(conninfo) as con:
        reader = csv.reader(fh)
        next(reader)
        con.execute(STAGING)
        with con.cursor() as cur:
            cur.executemany(INSERT, reader)
    return time.perf_counter() - t


async def follow_codes(engine, codes: list[str]) -> None:  # type: ignore[no-untyped-def]
    """One chat follows each of `codes` (plain rows: the benchmark measures the import, not `follow`)."""
    from knowledge.codes import normalize_code

    keys = [normalize_code(c) for c in codes]
    async with session_scope(engine) as s:
        for i in range(0, len(keys), 1000):
            ids = (await s.exec(select(Case.id).where(Case.code.in_(keys[i : i + 1000])))).all()  # type: ignore[attr-defined]
            if ids:
                await (await s.connection()).execute(
                    insert(Subscription),
                    [{"chat_id": 10_000 + n, "case_id": cid, "active": True} for n, cid in enumerate(ids, i)],
                )


async def run_imports(url: str, files: dict[str, Path], moved: list[str], kb) -> dict[str, tuple[float, object]]:  # type: ignore[no-untyped-def]
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(settings)
    out: dict[str, tuple[float, object]] = {}
    try:
        for label, path in (("first", files["base"]), ("again", files["base"])):
            t = time.perf_counter()
            report = await import_file(engine, path, kb=kb, settings=settings)
            out[label] = (time.perf_counter() - t, report)
            print(f"  {label}: {out[label][0]:.1f} s: {report.summary()}", file=sys.stderr)
            assert report.written and not report.errors, report.errors[:5]
        again = out["again"][1]
        assert (again.created, again.updated, again.status_changes, again.notifications) == (0, 0, 0, 0), again  # type: ignore[attr-defined]
        await follow_codes(engine, moved)
        t = time.perf_counter()
        report = await import_file(engine, files["update"], kb=kb, settings=settings)
        out["update"] = (time.perf_counter() - t, report)
        print(f"  update: {out['update'][0]:.1f} s: {report.summary()}", file=sys.stderr)
        assert report.written and report.status_changes == len(moved), report.summary()
    finally:
        await engine.dispose()
    return out


def pg_database(admin_url: str) -> tuple[str, str, psycopg.Connection]:
    u = make_url(admin_url)
    conninfo = (
        f"host={u.host or '127.0.0.1'} port={u.port or 5432} "
        f"user={u.username or 'postgres'} dbname={u.database or 'postgres'}"
    )
    if u.password:
        conninfo += f" password={u.password}"
    admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    name = f"bench_import_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = u.set(database=name, drivername="postgresql+psycopg").render_as_string(hide_password=False)
    return url, conninfo.replace(f"dbname={u.database or 'postgres'}", f"dbname={name}"), admin


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--changes", type=float, default=0.01, help="share of cases whose status the update file moves")
    ap.add_argument("--pg", metavar="URL", help="PostgreSQL server URL; a throw-away database is created on it")
    args = ap.parse_args()
    kb = require_knowledge(ROOT / "knowledge" / "procedures")
    n = args.rows
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp:
        tmpdir = Path(tmp)
        t = time.perf_counter()
        rows = generate(tmpdir / "cases.csv", n, kb)
        updated, moved = advanced(rows, args.changes)
        write(tmpdir / "cases-update.csv", updated)
        del rows, updated  # the peak memory below is then the import's
        files = {"base": tmpdir / "cases.csv", "update": tmpdir / "cases-update.csv"}
        size = files["base"].stat().st_size / 2**20
        print(
            f"{n:,} rows, {size:.1f} MB CSV generated in {time.perf_counter() - t:.1f} s; "
            f"{len(moved):,} status changes in the update file",
            file=sys.stderr,
        )

        results = []
        url = f"sqlite+aiosqlite:///{tmpdir / 'bench.db'}"
        upgrade(Settings(_env_file=None), url=url)  # type: ignore[call-arg]
        base = baseline_sqlite(files["base"], tmpdir / "bench.db")
        results.append(("SQLite", base, asyncio.run(run_imports(url, files, moved, kb))))
        if args.pg:
            pg_url, conninfo, admin = pg_database(args.pg)
            try:
                upgrade(Settings(_env_file=None), url=pg_url)  # type: ignore[call-arg]
                base = baseline_pg(files["base"], conninfo)
                results.append(("PostgreSQL", base, asyncio.run(run_imports(pg_url, files, moved, kb))))
            finally:
                admin.execute(f'DROP DATABASE IF EXISTS "{make_url(pg_url).database}" WITH (FORCE)')
                admin.close()

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{n:,} rows; peak memory of the process {rss:.0f} MB\n")
    print(
        "| backend | baseline (csv.reader + executemany) | first import (all new) | same file again "
        f"| update ({len(moved):,} status changes) |"
    )
    print("|---|---|---|---|---|")
    for backend, base, res in results:
        cells = [f"{n / base:,.0f} rows/s ({base:.1f} s)"]
        for label in ("first", "again", "update"):
            seconds, report = res[label]
            cells.append(f"{n / seconds:,.0f} rows/s ({seconds:.1f} s)")
        print(f"| {backend} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
