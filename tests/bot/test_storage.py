"""Storage on SQLite and PostgreSQL: migrations, cases, transitions, demo data, bad database settings."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.cases.rules import CaseError, NewCase, change_status, create_case, get_case, history
from bot.settings import Settings, SettingsError
from bot.staff import demo
from bot.storage.db import database_url, session_scope
from tests.helpers import cli

SECRET = "test-secret"


def _new(code: str = "000.00.15.H57-251120-0001") -> NewCase:
    return NewCase(
        code=code,
        procedure_id="cu-tru.dang-ky-tam-tru",
        agency="Công an xã",
        applicant_name="Trần Thị Bình",
        phone="0912 345 678",
        received_at=dt.datetime(2025, 11, 20, 2, tzinfo=dt.UTC),
        appointment_date=dt.date(2025, 11, 25),
    )


async def test_case_lookup_accepts_any_spelling(engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        case = await create_case(session=s, new=_new(), secret=SECRET)
        assert case.phone_last4 == "5678" and case.phone_hmac and "0912" not in case.phone_hmac
    async with session_scope(engine) as s:
        for spelling in (
            "000.00.15.H57-251120-0001",
            "000.00.15.h57 251120 0001",
            "0000015H572511200001",
            "000-00-15-H57-251120-0001",
        ):
            found = await get_case(s, spelling)
            assert found is not None and found.display_code == "000.00.15.H57-251120-0001", spelling
        assert await get_case(s, "000.00.15.H57-251120-0002") is None
        assert await get_case(s, "hello") is None


async def test_transitions_are_enforced_and_history_kept(engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        case = await create_case(session=s, new=_new(), secret=SECRET)
        await change_status(session=s, case=case, status="in_progress")
        with pytest.raises(CaseError, match="overdue cần ngày hẹn"):
            await change_status(session=s, case=case, status="overdue")
        await change_status(session=s, case=case, status="overdue", new_date=dt.date(2025, 12, 1), note="xin lỗi")
        await change_status(session=s, case=case, status="ready_for_pickup")
        await change_status(session=s, case=case, status="returned")
        with pytest.raises(CaseError, match="không thể chuyển từ returned"):
            await change_status(session=s, case=case, status="in_progress")
        events = await history(s, case)
        assert [e.status for e in events] == ["received", "in_progress", "overdue", "ready_for_pickup", "returned"]
        assert case.closed_at is not None and case.new_appointment_date == dt.date(2025, 12, 1)


async def test_failed_unit_of_work_writes_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CaseError):
        async with session_scope(engine) as s:
            case = await create_case(session=s, new=_new(), secret=SECRET)
            await change_status(session=s, case=case, status="returned")  # not allowed from received
    async with session_scope(engine) as s:
        assert await get_case(s, "000.00.15.H57-251120-0001") is None


async def test_demo_seed_is_realistic_and_idempotent(engine, kb) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        first = await demo.seed(session=s, kb=kb, secret=SECRET, count=36, today=dt.date(2026, 11, 25))
    async with session_scope(engine) as s:
        again = await demo.seed(session=s, kb=kb, secret=SECRET, count=36, today=dt.date(2026, 11, 25))
        assert await demo.case_count(s) == 36
    assert first == again
    assert {c.status for c in first} == {
        "received",
        "in_progress",
        "need_supplement",
        "ready_for_pickup",
        "returned",
        "overdue",
        "rejected",
        "withdrawn",
    }
    assert len({c.procedure_id for c in first}) >= 20
    for c in first:
        assert len(c.phone_last4) == 4 and c.phone_last4.isdigit()
        assert c.code.split("-")[0] in demo.AGENCY_CODES and c.code.split("-")[1].startswith("26")


def test_cli_migrates_and_seeds_a_fresh_sqlite_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"DATA_DIR": str(tmp_path / "var")}
    up = cli("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    assert (tmp_path / "var" / "tthc.db").exists()
    seeded = cli("demo", "seed", "--json", env=env)
    assert seeded.returncode == 0, seeded.stderr
    rows = [json.loads(line) for line in seeded.stdout.splitlines()]
    assert len(rows) >= 24 and {"code", "status", "phone_last4"} <= rows[0].keys()
    skipped = cli("demo", "seed", "--if-empty", "--json", env=env)
    assert skipped.returncode == 0 and skipped.stdout == ""


def test_bad_database_settings_give_one_clear_line(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad_scheme = cli("db", "upgrade", env={"DATABASE_URL": "mysql://root@127.0.0.1/x"})
    assert bad_scheme.returncode == 2
    assert bad_scheme.stderr.strip().startswith("error: DATABASE_URL: unsupported scheme 'mysql'")
    assert "Traceback" not in bad_scheme.stderr
    unreachable = cli("db", "upgrade", env={"DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/nothing"})
    assert unreachable.returncode == 2
    assert "database unreachable" in unreachable.stderr and "DATABASE_URL" in unreachable.stderr
    assert len(unreachable.stderr.strip().splitlines()) == 1
    debug = cli("--debug", "db", "upgrade", env={"DATABASE_URL": "mysql://root@127.0.0.1/x"})
    assert "Traceback" in debug.stderr


def test_database_url_defaults_to_sqlite_under_data_dir(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    assert database_url(s) == f"sqlite+aiosqlite:///{tmp_path}/tthc.db"
    pg = Settings(_env_file=None, database_url="postgresql://u:p@db/x")  # type: ignore[call-arg]
    assert database_url(pg) == "postgresql+psycopg://u:p@db/x"
    with pytest.raises(SettingsError):
        database_url(Settings(_env_file=None, database_url="oracle://x"))  # type: ignore[call-arg]


def test_placeholder_secrets_are_refused() -> None:
    from pydantic import ValidationError

    for bad in ("changeme", "secret", "short-key"):
        with pytest.raises(ValidationError, match="SECRET_KEY"):
            Settings(_env_file=None, secret_key=bad)  # type: ignore[call-arg]
    assert Settings(_env_file=None).uses_dev_secret  # type: ignore[call-arg]
    assert not Settings(_env_file=None, secret_key="x" * 32).uses_dev_secret  # type: ignore[call-arg]
