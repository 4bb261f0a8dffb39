"""Storage on SQLite and PostgreSQL: migrations, cases, transitions, demo data, bad database settings."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from bot.cases.rules import (
    CLOSED,
    RULES,
    STATUSES,
    TRANSITIONS,
    CaseError,
    NewCase,
    Problem,
    change_status,
    check_change,
    create_case,
    describe,
    describe_vi,
    get_case,
    history,
    parse_status,
)
from bot.notify import subscriptions
from bot.settings import Settings, SettingsError
from bot.staff import demo
from bot.staff.status import set_status
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


def test_every_status_has_one_rule() -> None:
    assert list(RULES) == list(STATUSES) == list(TRANSITIONS)
    for name, rule in RULES.items():
        assert rule.label == STATUSES[name] and set(rule.allowed_next) == TRANSITIONS[name]
        assert rule.allowed_next <= RULES.keys(), name  # every target is a status
        assert (name in CLOSED) == rule.closed == (not rule.allowed_next), name
        assert parse_status(name) == name and parse_status(rule.label.upper()) == name
    assert {name: [r.field for r in rule.requires] for name, rule in RULES.items() if rule.requires} == {
        "need_supplement": ["missing"],
        "overdue": ["new_date"],
        "rejected": ["note"],
    }
    assert parse_status("in-progress") == "in_progress" and parse_status("done") is None


def test_check_change_returns_structured_problems() -> None:
    assert check_change("received", "in_progress") == []
    assert check_change("received", "lost") == [Problem("status", "unknown_status", "lost", "received")]
    assert check_change("returned", "rejected") == [
        Problem("status", "not_allowed", "rejected", "returned"),
        Problem("note", "required", "rejected", "returned"),
    ]
    assert check_change(None, "returned") == []  # a new case may reach any status
    assert [p.field for p in check_change("in_progress", "overdue")] == ["new_date"]
    assert check_change("in_progress", "overdue", new_date=dt.date(2026, 12, 1)) == []
    assert [p.field for p in check_change("in_progress", "rejected", note="")] == ["note"]
    assert [p.field for p in check_change("in_progress", "need_supplement", missing=[])] == ["missing"]
    assert check_change("in_progress", "need_supplement", note="Thiếu tờ khai") == []  # a note will do
    # each edge words them: English for staff with its own names, Vietnamese for the core and the API
    [closed] = check_change("returned", "in_progress")
    assert describe(closed) == (
        "a case in status returned cannot move to in_progress; allowed from returned: none (the case is closed)"
    )
    assert describe_vi(closed).startswith("không thể chuyển từ returned sang in_progress")
    [missing] = check_change("received", "need_supplement")
    assert describe(missing) == "status need_supplement needs the missing documents (or a note)"
    assert describe(missing, {"note": "--note"}).endswith("(or --note)")
    assert "ngày hẹn trả mới" in describe_vi(check_change("received", "overdue")[0])


async def test_set_status_returns_the_notifications_queued(engine, kb, settings) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        case = await create_case(session=s, new=_new(), secret=SECRET)
        assert await set_status(s, case=case, status="in_progress", kb=kb, settings=settings) == 0  # nobody follows
        for chat in (1, 2):
            assert await subscriptions.follow(s, chat_id=chat, case=case, kb=kb, settings=settings)
        assert await set_status(s, case=case, status="ready_for_pickup", kb=kb, settings=settings) == 2
        # returned: the status message and the satisfaction survey, for each follower
        assert await set_status(s, case=case, status="returned", kb=kb, settings=settings) == 4
        with pytest.raises(CaseError) as refused:
            await set_status(s, case=case, status="rejected", kb=kb, settings=settings)
        assert [p.code for p in refused.value.problems] == ["not_allowed", "required"]


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
