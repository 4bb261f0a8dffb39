"""Staff accounts of the console (bot/accounts): Argon2 hashes, the lockout, server-side sessions, the audit log,
and the `tthc-bot staff` commands; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.accounts import audit, passwords, sessions, throttle, users
from bot.accounts.roles import allows
from bot.storage.db import session_scope
from bot.storage.models import AuditEntry, LoginAttempt, StaffAccount, StaffSession, utcnow
from tests.helpers import cli

ADMIN = audit.Actor("quantri", None, "127.0.0.1")
PASSWORD = "mat-khau-du-dai-1"


async def _add(engine, username: str = "canbo", role: str = "officer") -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        await users.add(s, username, role, PASSWORD, by=ADMIN)


def test_passwords_are_argon2_salted_and_checked() -> None:
    one, two = passwords.hash_password(PASSWORD), passwords.hash_password(PASSWORD)
    assert one.startswith("$argon2id$") and one != two and PASSWORD not in one
    assert passwords.verify(one, PASSWORD) and not passwords.verify(one, PASSWORD + "x")
    assert not passwords.verify(None, PASSWORD) and not passwords.verify("not-a-hash", PASSWORD)
    with pytest.raises(passwords.PasswordError, match="ít nhất 10"):
        passwords.check_policy("ngan")


def test_roles_are_ordered() -> None:
    assert allows("admin", "lead") and allows("lead", "officer") and allows("officer", "officer")
    assert not allows("officer", "lead") and not allows("lead", "admin") and not allows("guest", "officer")


async def test_accounts_are_added_checked_and_audited(engine) -> None:  # type: ignore[no-untyped-def]
    await _add(engine, "Can.Bo-01")
    async with session_scope(engine) as s:
        account = await users.find(s, "CAN.BO-01")
        assert account is not None and account.username == "can.bo-01" and account.role == "officer"
        assert account.password_hash.startswith("$argon2id$")
        for name, role, pw, message in [
            ("can.bo-01", "officer", PASSWORD, "đã có"),
            ("x", "officer", PASSWORD, "không hợp lệ"),
            ("nguyễn", "officer", PASSWORD, "không hợp lệ"),
            ("lanhdao", "boss", PASSWORD, "unknown role"),
            ("lanhdao", "lead", "short", "ít nhất 10"),
        ]:
            with pytest.raises(users.AccountError, match=message):
                await users.add(s, name, role, pw, by=ADMIN)
    async with session_scope(engine) as s:
        entries = (await s.exec(select(AuditEntry))).all()
    assert [(e.actor, e.action, e.target, e.after) for e in entries] == [
        ("quantri", "account.add", "account:can.bo-01", {"username": "can.bo-01", "role": "officer"})
    ]
    assert all(PASSWORD not in str(e.after) for e in entries)


async def test_sign_in_starts_a_session_and_disabling_ends_it(engine) -> None:  # type: ignore[no-untyped-def]
    await _add(engine)
    async with session_scope(engine) as s:
        ok = await users.sign_in(s, "canbo", PASSWORD, address="10.0.0.1")
        assert ok.outcome == "ok" and ok.token and ok.account is not None
    async with session_scope(engine) as s:
        row = (await s.exec(select(StaffSession))).one()
        assert ok.token not in row.token_hash and len(row.csrf_token) >= 32
        current = await sessions.resume(s, ok.token, now=utcnow())
        assert current is not None and current.account.username == "canbo"
        assert current.csrf_ok(row.csrf_token) and not current.csrf_ok("") and not current.csrf_ok("x")
        assert await sessions.resume(s, ok.token + "x", now=utcnow()) is None
        assert await sessions.resume(s, ok.token, now=utcnow() + sessions.IDLE) is None  # idled out, and deleted
    async with session_scope(engine) as s:
        ok = await users.sign_in(s, "canbo", PASSWORD, address="10.0.0.1")
    async with session_scope(engine) as s:
        await users.set_active(s, "canbo", False, by=ADMIN)
    async with session_scope(engine) as s:
        assert await sessions.resume(s, ok.token, now=utcnow()) is None
        assert (await users.sign_in(s, "canbo", PASSWORD, address="10.0.0.1")).outcome == "refused"
        actions = [e.action for e in (await s.exec(select(AuditEntry).order_by(AuditEntry.id))).all()]
    assert actions == ["account.add", "account.disable"]


async def test_five_failures_in_fifteen_minutes_make_the_account_and_the_address_wait(engine) -> None:  # type: ignore[no-untyped-def]
    await _add(engine)
    await _add(engine, "khac")
    start = utcnow()
    async with session_scope(engine) as s:
        for i in range(throttle.LIMIT):
            got = await users.sign_in(
                s, "canbo", "sai-mat-khau", address="10.0.0.1", now=start + dt.timedelta(minutes=i)
            )
            assert got.outcome == "refused"
        at = start + dt.timedelta(minutes=5)
        locked = await users.sign_in(s, "canbo", PASSWORD, address="10.0.0.2", now=at)  # right password, other address
        assert locked.outcome == "locked" and locked.until == start + throttle.WINDOW  # the oldest failure + 15 min
        other = await users.sign_in(s, "khac", PASSWORD, address="10.0.0.1", now=at)  # other account, same address
        assert other.outcome == "locked"
        assert (await users.sign_in(s, "khac", PASSWORD, address="10.0.0.3", now=at)).outcome == "ok"
        later = start + throttle.WINDOW
        assert (await users.sign_in(s, "canbo", PASSWORD, address="10.0.0.1", now=later)).outcome == "ok"
        counted = len((await s.exec(select(LoginAttempt))).all())
    assert counted == throttle.LIMIT + 2  # waiting attempts are not counted


async def test_an_unknown_username_is_refused_like_a_wrong_password(engine) -> None:  # type: ignore[no-untyped-def]
    await _add(engine)
    async with session_scope(engine) as s:
        unknown = await users.sign_in(s, "khong-co", PASSWORD, address="10.0.0.9")
        wrong = await users.sign_in(s, "canbo", "sai", address="10.0.0.9")
    assert unknown == wrong == users.SignIn("refused")


async def test_an_admin_cannot_lock_themselves_out(engine) -> None:  # type: ignore[no-untyped-def]
    await _add(engine, "quantri", "admin")
    async with session_scope(engine) as s:
        me = await users.find(s, "quantri")
        assert me is not None
        actor = audit.Actor("quantri", me.id)
        with pytest.raises(users.AccountError, match="tự khóa"):
            await users.set_active(s, "quantri", False, by=actor)
        with pytest.raises(users.AccountError, match="tự đổi vai trò"):
            await users.set_role(s, "quantri", "officer", by=actor)


def test_staff_commands(settings) -> None:  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": "cli-secret-for-the-staff-commands-0123"}
    added = cli("staff", "add", "lanhdao", "--role", "lead", "--password-stdin", env=env, input_text=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    again = cli("staff", "add", "lanhdao", "--role", "lead", "--password-stdin", env=env, input_text=PASSWORD + "\n")
    assert again.returncode == 1 and "đã có" in again.stderr
    weak = cli("staff", "add", "canbo", "--password-stdin", env=env, input_text="ngan\n")
    assert weak.returncode == 1 and "ít nhất 10" in weak.stderr
    listed = cli("staff", "list", "--json", env=env)
    assert listed.returncode == 0 and '"username": "lanhdao", "role": "lead", "active": true' in listed.stdout
    assert cli("staff", "disable", "lanhdao", env=env).returncode == 0
    assert '"active": false' in cli("staff", "list", "--json", env=env).stdout
    assert cli("staff", "disable", "khong-co", env=env).returncode == 1
    assert PASSWORD not in added.stdout + added.stderr


async def test_audit_entries_page_newest_first(engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        for i in range(3):
            await audit.record(s, ADMIN, "apikey.create", f"apikey:k{i}", after={"at": dt.date(2026, 12, i + 1)})
        total, page = await audit.entries(s, limit=2)
        assert total == 3 and [e.target for e in page] == ["apikey:k2", "apikey:k1"]
        assert page[0].after == {"at": "2026-12-03"}
        with pytest.raises(ValueError, match="unknown audit action"):
            await audit.record(s, ADMIN, "nothing", "x")
        assert (await s.exec(select(StaffAccount))).all() == []
