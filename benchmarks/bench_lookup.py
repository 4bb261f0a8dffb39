"""Case lookup by receipt code (`bot.cases.rules.get_case`) with a million cases, on SQLite and PostgreSQL, beside a
raw-SQL baseline in the same run.

For each backend, a freshly migrated database (SQLite file in a temporary folder; a throw-away PostgreSQL
database, dropped afterwards) gets --cases cases (default 1,000,000) in one bulk load through the plain
synchronous driver (sqlite3 `executemany` in one transaction; psycopg `COPY`), in the column formats the ORM
writes, then ANALYZE. Codes are realistic: 50 agency codes x 730 receipt dates x a daily sequence number.

Then --lookups random lookups (default 2,000: half existing codes, half well-formed codes that do not exist),
each typed as on the appointment slip, timed one by one, the three ways interleaved code by code:

* baseline: `SELECT * FROM "case" WHERE code = ?` with the already-normalized key, through the same async
  driver the bot uses (aiosqlite / psycopg async), on one open connection;
* get_case in an open session: `normalize_code` + the ORM query + building the Case object;
* get_case as the bot does it: a new session (`session_scope`) per lookup, from the engine's pool.

Run: .venv/bin/python benchmarks/bench_lookup.py [--cases 1000000] [--lookups 2000] [--backends sqlite,postgres]
     [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosqlite  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.cases.rules import get_case  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.db import make_engine, session_scope  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from knowledge.codes import display_code, normalize_code  # noqa: E402

PG_DEFAULT = os.environ.get("DATABASE_TEST_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AGENCIES = [f"000.00.{10 + k:02d}.H{(k * 7) % 90 + 10:02d}" for k in range(50)]
DAYS = 730
FIRST_DAY = dt.date(2025, 1, 1)
PROCEDURES = [
    "cu-tru.dang-ky-thuong-tru",
    "cu-tru.dang-ky-tam-tru",
    "ho-tich.dang-ky-khai-sinh",
    "ho-tich.dang-ky-ket-hon",
    "dat-dai.cap-giay-chung-nhan-lan-dau",
]
STATUSES = ["received", "in_progress", "need_supplement", "ready_for_pickup", "returned", "overdue"]
NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thị Dung", "Hoàng Văn Em", "Vũ Thị Hoa"]
COLUMNS = [
    "code",
    "display_code",
    "procedure_id",
    "agency",
    "office",
    "applicant_name",
    "phone_hmac",
    "phone_last4",
    "birth_year",
    "received_at",
    "appointment_date",
    "new_appointment_date",
    "channel",
    "return_method",
    "status",
    "status_note",
    "missing_documents",
    "fee",
    "closed_at",
    "created_at",
    "updated_at",
]


def key_of(i: int, seq_offset: int = 0) -> str:
    """The normalized code of case number i: agency, receipt date, sequence (unique for i < 50 * 730 * 9000)."""
    agency = AGENCIES[i % len(AGENCIES)].replace(".", "")
    day = FIRST_DAY + dt.timedelta(days=(i // len(AGENCIES)) % DAYS)
    return f"{agency}{day:%y%m%d}{i // (len(AGENCIES) * DAYS) + 1 + seq_offset:04d}"


def rows(n: int, *, sqlite_text: bool) -> Iterator[tuple[Any, ...]]:
    """Case rows in COLUMNS order (the same codes as key_of); for SQLite in the text formats SQLAlchemy stores
    (UTC, no offset). Per-day values are computed once: the generator must not be what is measured."""
    agencies = [(a, a.replace(".", "")) for a in AGENCIES]
    days = []
    for d in range(DAYS):
        day = FIRST_DAY + dt.timedelta(days=d)
        received = [dt.datetime.combine(day, dt.time(1 + h, 15), tzinfo=dt.UTC) for h in range(9)]
        dues = [day + dt.timedelta(days=3 + k) for k in range(12)]
        if sqlite_text:
            days.append(
                (f"{day:%y%m%d}", [r.strftime("%Y-%m-%d %H:%M:%S.%f") for r in received], [x.isoformat() for x in dues])
            )
        else:
            days.append((f"{day:%y%m%d}", received, dues))
    per_seq = len(AGENCIES) * DAYS
    for i in range(n):
        dotted, plain = agencies[i % len(AGENCIES)]
        yymmdd, received, dues = days[(i // len(AGENCIES)) % DAYS]
        seq = f"{i // per_seq + 1:04d}"
        r_at = received[i % 9]
        yield (
            f"{plain}{yymmdd}{seq}",
            f"{dotted}-{yymmdd}-{seq}",
            PROCEDURES[i % len(PROCEDURES)],
            "Công an xã",
            "Bộ phận Một cửa xã",
            NAMES[i % len(NAMES)],
            None,
            f"{i % 10000:04d}",
            1950 + i % 50,
            r_at,
            dues[i % 12],
            None,
            "truc-tiep",
            "truc-tiep",
            STATUSES[i % len(STATUSES)],
            None,
            "[]",
            None,
            None,
            r_at,
            r_at,
        )


# --- databases -------------------------------------------------------------------------------------


def pg_conn(url: str, **kw: Any) -> psycopg.Connection:
    u = make_url(url)
    return psycopg.connect(
        host=u.host or "127.0.0.1",
        port=u.port or 5432,
        user=u.username or "postgres",
        password=u.password,
        dbname=u.database or "postgres",
        **kw,
    )


def load_sqlite(path: Path, n: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    with conn:
        conn.executemany(
            f'INSERT INTO "case" ({", ".join(COLUMNS)}) VALUES ({", ".join("?" * len(COLUMNS))})',
            rows(n, sqlite_text=True),
        )
    conn.execute("ANALYZE")
    conn.close()


def load_postgres(url: str, n: int) -> None:
    """COPY in text format, lines built here (the values hold no tab, newline or backslash)."""

    def text(v: Any) -> str:
        return "\\N" if v is None else v.isoformat(sep=" ") if isinstance(v, dt.datetime) else str(v)

    with pg_conn(url) as conn:
        with conn.cursor() as cur, cur.copy(f'COPY "case" ({", ".join(COLUMNS)}) FROM STDIN') as copy:
            chunk: list[str] = []
            for row in rows(n, sqlite_text=False):  # datetimes with their +00:00 offset
                chunk.append("\t".join(text(v) for v in row))
                if len(chunk) == 10_000:
                    copy.write("\n".join(chunk) + "\n")
                    chunk = []
            if chunk:
                copy.write("\n".join(chunk) + "\n")
        conn.commit()
        conn.autocommit = True
        conn.execute('ANALYZE "case"')


def prepare(backend: str, pg_admin: str, tmp: Path, n: int) -> tuple[str, str | None, float, str]:
    """A migrated, filled database: (async URL, PostgreSQL database to drop, load seconds, size)."""
    if backend == "sqlite":
        path = tmp / f"lookup-{uuid.uuid4().hex[:6]}.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(Settings(_env_file=None), url=url)  # type: ignore[call-arg]
        start = time.perf_counter()
        load_sqlite(path, n)
        return url, None, time.perf_counter() - start, f"{path.stat().st_size / 2**20:.0f} MiB"
    name = f"tthc_bench_{uuid.uuid4().hex[:10]}"
    with pg_conn(pg_admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(pg_admin).set(database=name, drivername="postgresql+psycopg").render_as_string(hide_password=False)
    try:
        upgrade(Settings(_env_file=None), url=url)  # type: ignore[call-arg]
        start = time.perf_counter()
        load_postgres(url, n)
        took = time.perf_counter() - start
        with pg_conn(url) as conn:
            size = conn.execute("SELECT pg_size_pretty(pg_total_relation_size('\"case\"'))").fetchone()[0]  # type: ignore[index]
    except BaseException:
        drop_postgres(pg_admin, name)
        raise
    return url, name, took, size


def drop_postgres(pg_admin: str, name: str) -> None:
    with pg_conn(pg_admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- lookups -----------------------------------------------------------------------------------------


def sample(n_cases: int, n_lookups: int, seed: int) -> list[tuple[str, bool]]:
    """(code as typed, exists): half existing cases, half well-formed codes that are not in the database."""
    rng = random.Random(seed)
    out = []
    for k in range(n_lookups):
        if k % 2 == 0:
            out.append((display_code(key_of(rng.randrange(n_cases))), True))
        else:
            out.append((display_code(key_of(rng.randrange(len(AGENCIES) * DAYS), seq_offset=9000)), False))
    rng.shuffle(out)
    return out


async def measure(url: str, lookups: list[tuple[str, bool]], warmup: int) -> dict[str, list[float]]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    engine = make_engine(settings, url=url)
    times: dict[str, list[float]] = {"baseline": [], "open session": [], "session per lookup": []}
    sqlite_path = make_url(url).database if url.startswith("sqlite") else None
    raw: Any = await (
        aiosqlite.connect(sqlite_path)
        if sqlite_path
        else psycopg.AsyncConnection.connect(
            make_url(url).set(drivername="postgresql").render_as_string(hide_password=False), autocommit=True
        )
    )
    sql = 'SELECT * FROM "case" WHERE code = ' + ("?" if sqlite_path else "%s")
    try:
        async with session_scope(engine) as open_session:
            for n, (code, exists) in enumerate(lookups[:warmup] + lookups):
                key = normalize_code(code)
                t0 = time.perf_counter()
                cur = await raw.execute(sql, (key,))
                found = await cur.fetchone()
                t1 = time.perf_counter()
                case = await get_case(open_session, code)
                t2 = time.perf_counter()
                async with session_scope(engine) as s:
                    case2 = await get_case(s, code)
                t3 = time.perf_counter()
                if (found is not None, case is not None, case2 is not None) != (exists,) * 3:
                    raise SystemExit(
                        f"lookup of {code} gave {found!r} / {case!r} / {case2!r}, expected exists={exists}"
                    )
                if case is not None and (
                    case.display_code != code
                    or case.received_at.minute != 15
                    or not 1 <= case.received_at.astimezone(dt.UTC).hour <= 9
                ):
                    raise SystemExit(f"case {code} read back wrong: {case!r}")
                open_session.expunge_all()  # no identity-map hits: every lookup reads the database
                if n >= warmup:
                    times["baseline"].append(t1 - t0)
                    times["open session"].append(t2 - t1)
                    times["session per lookup"].append(t3 - t2)
    finally:
        await raw.close()
        await engine.dispose()
    return times


def pct(values: list[float], q: float) -> float:
    return (
        statistics.quantiles(values, n=1000, method="inclusive")[int(q * 10) - 1] * 1000
        if q < 100
        else max(values) * 1000
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--pg", default=PG_DEFAULT)
    parser.add_argument("--seed", type=int, default=20261125)
    args = parser.parse_args()
    if args.cases > len(AGENCIES) * DAYS * 9000:
        raise SystemExit("--cases too large for the code generator")
    assert all(normalize_code(display_code(key_of(i))) == key_of(i) for i in (0, 1, 36_499, 36_500, args.cases - 1))
    print(
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    lookups = sample(args.cases, args.lookups, args.seed)
    lines = ["| database | cases | bulk load | size | lookup | p50 | p99 | max |", "|---|---|---|---|---|---|---|---|"]
    tmp = Path(tempfile.mkdtemp(prefix="bench-lookup-"))
    try:
        for backend in args.backends.split(","):
            url, pg_name, load, size = prepare(backend, args.pg, tmp, args.cases)
            print(
                f"{backend}: {args.cases:,} cases loaded in {load:.1f} s ({args.cases / load:,.0f} rows/s), {size}",
                flush=True,
            )
            try:
                times = asyncio.run(measure(url, lookups, args.warmup))
            finally:
                if pg_name:
                    drop_postgres(args.pg, pg_name)
            for what, values in times.items():
                lines.append(
                    f"| {backend} | {args.cases:,} | {load:.1f} s | {size} | {what} | {pct(values, 50):.3f} ms "
                    f"| {pct(values, 99):.3f} ms | {pct(values, 100):.2f} ms |"
                )
                print(lines[-1], flush=True)
    finally:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
