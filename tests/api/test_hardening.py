"""The staff API after the second security review: each test reproduces one attack (findings 10, 11, 12, 13, 19, 20
and the names), on SQLite and PostgreSQL; findings 11 and 12 through a real uvicorn server on 127.0.0.1, as attacked."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import select

from api.app import create_app
from api.deps import client_address
from api.guards import scrub_url
from bot.cases import verification
from bot.cases.qr import read_payload
from bot.feedback import survey
from bot.feedback import tickets as feedback
from bot.services import Services
from bot.staff import apikeys
from bot.storage.db import session_scope
from bot.storage.models import ApiKey, Case
from tests.api.test_api import CODE, _case_body, _client, _h, _key


@pytest.fixture
def services(settings, kb, matcher, engine) -> Services:  # type: ignore[no-untyped-def]
    return Services(settings, kb, matcher, engine)


@asynccontextmanager
async def _served(services: Services, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The API under uvicorn on 127.0.0.1, configured as `tthc-bot api` configures it."""
    import uvicorn

    from cli.api import server_config

    settings = services.settings.model_copy(update=overrides)
    server = uvicorn.Server(server_config(create_app(replace(services, settings=settings)), settings, "127.0.0.1", 0))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client
    finally:
        server.should_exit = True
        await task


# --- finding 10: a key gets exactly what its scopes say -------------------------------------------------


async def test_a_write_key_without_read_cannot_read_cases_or_reset_the_phone(engine, services) -> None:  # type: ignore[no-untyped-def]
    write_only = _h(await _key(engine, "importer", "write"))
    writer = _h(await _key(engine, "writer", "read", "write"))
    owner = _h(await _key(engine, "registry", "read", "write", "pii"))
    async with _client(services) as c:
        created = await c.post("/api/v1/cases", json=_case_body(), headers=write_only)
        assert created.status_code == 201 and set(created.json()) == {"code", "status", "updated_at"}
        # the attack: a harmless change answered with the whole case, then the phone replaced by the attacker's
        r = await c.patch(f"/api/v1/cases/{CODE}", json={"fee": 1000}, headers=write_only)
        assert r.status_code == 200 and r.json() == {"code": CODE, "status": "received", "updated_at": ANY_TIME}
        assert "applicant_name" not in r.text and "Nguy" not in r.text
        r = await c.post(f"/api/v1/cases/{CODE}/status", json={"status": "in_progress"}, headers=write_only)
        assert r.status_code == 200 and set(r.json()["case"]) == {"code", "status", "updated_at"}
        for headers in (write_only, writer):
            for change in ({"phone": "0999 000 111"}, {"birth_year": 1950}, {"fee": 1, "phone": "0999000111"}):
                r = await c.patch(f"/api/v1/cases/{CODE}", json=change, headers=headers)
                assert r.status_code == 403 and r.json()["error"] == "insufficient_scope" and "pii" in r.text
        r = await c.patch(f"/api/v1/cases/{CODE}", json={"phone": "0999 000 111"}, headers=owner)
        assert r.status_code == 200 and r.json()["phone_last4"] == "0111"
        assert (await c.get(f"/api/v1/cases/{CODE}", headers=write_only)).status_code == 403
        assert (await c.get(f"/api/v1/cases/{CODE}/history", headers=write_only)).status_code == 403
        full = await c.patch(f"/api/v1/cases/{CODE}", json={"fee": 2000}, headers=writer)
        assert full.json()["applicant_name"] == "Nguyễn V*** A"  # with read: the case, masked without pii
    async with session_scope(engine) as s:
        fb = await feedback.create(s, chat_id=5, category="khac", text="Gọi 0912 345 678")
    async with _client(services) as c:
        r = await c.patch(f"/api/v1/feedback/{fb.tracking_no}", json={"status": "closed"}, headers=write_only)
        assert r.status_code == 200 and r.json() == {"tracking_no": fb.tracking_no, "status": "closed"}


class _AnyTime:
    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and dt.datetime.fromisoformat(other).year >= 2026


ANY_TIME: Any = _AnyTime()


# --- finding 11: X-Forwarded-For only from trusted proxies ---------------------------------------------------


async def test_forwarded_for_from_any_client_does_not_reset_the_failed_key_limit(services) -> None:  # type: ignore[no-untyped-def]
    """The attack, on 127.0.0.1: a new X-Forwarded-For with every wrong key, so the per-address limit never bit."""
    async with _served(services, api_rate_limit=60, api_rate_burst=3) as c:
        codes = [
            (await c.get("/api/v1/stats", headers={**_h(f"tthc_guess{i}"), "X-Forwarded-For": f"203.0.113.{i}"}))
            for i in range(6)
        ]
    assert [r.status_code for r in codes] == [401, 401, 401, 429, 429, 429]


async def test_forwarded_for_names_the_client_behind_a_trusted_proxy(services) -> None:  # type: ignore[no-untyped-def]
    async with _client(services, api_rate_limit=60, api_rate_burst=2, trusted_proxies=["127.0.0.0/8"]) as c:
        spread = [
            (await c.get("/api/v1/stats", headers={**_h("tthc_x"), "X-Forwarded-For": f"198.51.100.{i}"})).status_code
            for i in range(4)
        ]
        same = [
            (await c.get("/api/v1/stats", headers={**_h("tthc_x"), "X-Forwarded-For": "198.51.100.9"})).status_code
            for _ in range(3)
        ]
    assert spread == [401] * 4 and same == [401, 401, 429]  # the proxy's clients are told apart, each limited


def test_client_address_reads_forwarded_for_from_the_right_and_only_behind_trusted_proxies() -> None:
    import ipaddress

    trusted = (ipaddress.ip_network("10.0.0.0/24"), ipaddress.ip_network("::1/128"))
    assert client_address("203.0.113.5", ["1.2.3.4"], trusted) == "203.0.113.5"  # not a proxy: header ignored
    assert client_address("10.0.0.2", ["1.2.3.4, 198.51.100.7"], trusted) == "198.51.100.7"  # appended by the proxy
    assert client_address("10.0.0.2", ["198.51.100.7, 10.0.0.3"], trusted) == "198.51.100.7"  # two proxies
    assert client_address("10.0.0.2", ["garbage"], trusted) == "10.0.0.2"
    assert client_address("10.0.0.2", [], trusted) == "10.0.0.2"
    assert client_address("::1", ["2001:db8::1"], trusted) == "2001:db8::1"
    assert client_address(None, ["1.2.3.4"], ()) == "unknown"


def test_trusted_proxies_setting_refuses_what_is_not_an_address() -> None:
    from bot.settings import Settings

    assert Settings(trusted_proxies=[" 10.0.0.0/8", "::1"], _env_file=None).trusted_proxies == ["10.0.0.0/8", "::1"]  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        Settings(trusted_proxies=["proxy.local"], _env_file=None)  # type: ignore[call-arg]
    assert Settings(_env_file=None).trusted_proxies == []  # type: ignore[call-arg]


# --- finding 12: keys in the URL ---------------------------------------------------------------------------


async def test_a_key_in_the_url_is_refused_and_never_reaches_the_access_log(engine, services, caplog) -> None:  # type: ignore[no-untyped-def]
    token = await _key(engine, "script", "read")
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    async with _served(services) as c:
        answers = [
            await c.get(f"/api/v1/stats?{query}")
            for query in (f"api_key={token}", f"since=2026-01-01&key={token}", f"x={token}", f"API_KEY={token}&a=1")
        ]
        assert (await c.get("/api/v1/stats", headers=_h(token))).status_code == 200  # the header still works
    for r in answers:
        assert r.status_code == 401 and r.json()["error"] == "api_key_in_url", r.text
        assert "Authorization: Bearer" in r.json()["message"] and token not in r.text
    lines = [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]
    assert len(lines) == 5 and any("api_key=***" in line for line in lines)
    assert not any(token in line or token[5:20] in line for line in lines), lines


def test_scrub_url_removes_key_values_and_key_shaped_text() -> None:
    key = "tthc_" + "A" * 43
    assert scrub_url(f"/api/v1/stats?key={key}&since=1") == "/api/v1/stats?key=***&since=1"
    assert scrub_url("/api/v1/stats?token=abc") == "/api/v1/stats?token=***"
    assert scrub_url(f"/api/v1/cases/{key}") == "/api/v1/cases/***"
    assert scrub_url("/api/v1/feedback?status=received&limit=20") == "/api/v1/feedback?status=received&limit=20"


# --- finding 13: no client-supplied names or values in errors -------------------------------------------------


async def test_errors_do_not_echo_unknown_field_names_or_values(engine, services) -> None:  # type: ignore[no-untyped-def]
    w = _h(await _key(engine, "writer", "read", "write"))
    probe = "<img src=x onerror=alert(1)>"
    async with _client(services) as c:
        r = await c.post("/api/v1/cases", json=_case_body(**{probe: 1, "extra_" + probe: 2}), headers=w)
        assert r.status_code == 422 and probe not in r.text and "onerror" not in r.text
        assert r.json()["detail"] == [{"loc": ["body"], "msg": "unknown field", "type": "extra_forbidden"}]
        assert r.json()["message"] == "body: unknown field"
        r = await c.patch(f"/api/v1/cases/{CODE}", json={probe: 1}, headers=w)
        assert r.status_code == 422 and probe not in r.text
        r = await c.post("/api/v1/cases", json=_case_body(procedure_id=probe), headers=w)
        assert r.status_code == 422 and probe not in r.text and r.json()["detail"][0]["loc"] == ["body", "procedure_id"]
        r = await c.post("/api/v1/cases/" + "x" * 20 + "/status", json={"status": "in_progress"}, headers=w)
        assert r.status_code == 404 and "xxxx" not in r.text
        r = await c.patch("/api/v1/feedback/GY-" + "Z" * 30, json={"status": "closed"}, headers=w)
        assert r.status_code == 404 and "ZZZZ" not in r.text


# --- finding 19: keys expire; /docs from no CDN ----------------------------------------------------------------


async def test_expired_keys_get_401_key_expired(engine, services) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        key, token = await apikeys.create(s, "short", ["read"], expires_in_days=1)
        assert dt.timedelta(hours=23) < key.expires_at - key.created_at <= dt.timedelta(days=1)
        with pytest.raises(apikeys.ApiKeyError, match="expiry"):
            await apikeys.create(s, "never", ["read"], expires_in_days=0)
        _, default = await apikeys.create(s, "default", ["read"])
        assert (await apikeys.find(s, "default")).expires_at.date() == (
            dt.datetime.now(dt.UTC) + dt.timedelta(days=365)
        ).date()  # type: ignore[union-attr]
    async with _client(services) as c:
        assert (await c.get("/api/v1/stats", headers=_h(token))).status_code == 200
        async with session_scope(engine) as s:
            row = await apikeys.find(s, "short")
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)  # type: ignore[union-attr]
            s.add(row)
        r = await c.get("/api/v1/stats", headers=_h(token))
        assert r.status_code == 401 and r.json()["error"] == "expired_api_key" and "key expired" in r.json()["message"]
        assert (await c.get("/api/v1/stats", headers=_h(default))).status_code == 200
    async with session_scope(engine) as s:
        assert await apikeys.verify(s, token) is None


async def test_apikey_commands_give_and_show_an_expiry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.settings import Settings
    from bot.storage.migrate import upgrade
    from tests.helpers import cli

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    await asyncio.to_thread(upgrade, Settings(_env_file=None), url=url)  # type: ignore[call-arg]
    env = {"DATABASE_URL": url, "DATA_DIR": str(tmp_path)}
    made = await asyncio.to_thread(cli, "apikey", "create", "tam", "--expires-in-days", "30", env=env)
    assert made.returncode == 0 and "valid until" in made.stderr, made.stderr
    refused = await asyncio.to_thread(cli, "apikey", "create", "mai-mai", "--expires-in-days", "0", env=env)
    assert refused.returncode == 1 and "expiry" in refused.stderr
    listed = await asyncio.to_thread(cli, "apikey", "list", "--json", env=env)
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    expires = dt.datetime.fromisoformat(row["expires_at"])
    assert row["expired"] is False and 29 <= (expires - dt.datetime.fromisoformat(row["created_at"])).days <= 30
    plain = await asyncio.to_thread(cli, "apikey", "list", env=env)
    assert "expires" in plain.stdout and "active" in plain.stdout


def test_migration_gives_existing_keys_an_expiry(database_url) -> None:  # type: ignore[no-untyped-def]
    """Keys made before 0005 expire a year after their creation, but not within 30 days of the upgrade."""
    import sqlalchemy as sa
    from alembic import command

    from bot.settings import Settings
    from bot.storage.migrate import alembic_config, upgrade
    from bot.storage.models import UTCDateTime

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    keys = sa.table(
        "apikey",
        sa.column("name", sa.String()),
        sa.column("key_hash", sa.String()),
        sa.column("scopes", sa.JSON()),
        sa.column("created_at", UTCDateTime()),
        sa.column("expires_at", UTCDateTime()),
    )
    sync = sa.create_engine(database_url.replace("+aiosqlite", ""))
    now = dt.datetime.now(dt.UTC)
    command.downgrade(alembic_config(settings, database_url), "0004")
    try:
        with sync.begin() as conn:
            conn.execute(sa.delete(keys))
            for name, age in (("old", 400), ("recent", 10)):
                conn.execute(
                    sa.insert(keys).values(
                        name=name, key_hash=name * 8, scopes=[], created_at=now - dt.timedelta(days=age)
                    )
                )
        upgrade(settings, url=database_url)
        with sync.begin() as conn:
            expiry = dict(conn.execute(sa.select(keys.c.name, keys.c.expires_at)).all())
            conn.execute(sa.delete(keys))
    finally:
        upgrade(settings, url=database_url)
        sync.dispose()
    assert 29 <= (expiry["old"] - now).days <= 30  # the grace period
    assert 354 <= (expiry["recent"] - now).days <= 355


async def test_docs_are_off_by_default_and_served_from_this_server_when_on(services, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    async with _client(services) as c:
        assert (await c.get("/docs")).status_code == 404 and (await c.get("/redoc")).status_code == 404
        assert (await c.get("/openapi.json")).json()["info"]["title"] == "tthc-bot staff API"
    assets = tmp_path / "swagger"
    assets.mkdir()
    (assets / "swagger-ui-bundle.js").write_text("/* swagger */")
    (assets / "swagger-ui.css").write_text("/* css */")
    monkeypatch.setattr("api.app.assets_dir", lambda: Path(assets))
    async with _client(services, api_docs=True) as c:
        page = await c.get("/docs")
        js = await c.get("/docs/assets/swagger-ui-bundle.js")
    assert page.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # nothing from a CDN
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert js.status_code == 200 and js.text == "/* swagger */"


def test_docs_need_the_pinned_package(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import importlib

    from api.docs import assets_dir
    from bot.settings import SettingsError

    real = importlib.import_module

    def missing(name: str, *args: Any) -> Any:
        if name == "swagger_ui_bundle":
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(SettingsError, match="swagger-ui-bundle==1.1.0"):
        assets_dir()


# --- finding 20: staff replies masked; stored masked copies used ------------------------------------------------


async def test_replies_are_masked_and_the_stored_masked_copies_are_used(engine, services) -> None:  # type: ignore[no-untyped-def]
    reader = _h(await _key(engine, "reader", "read"))
    auditor = _h(await _key(engine, "auditor", "read", "pii"))
    writer = _h(await _key(engine, "writer", "read", "write"))
    async with session_scope(engine) as s:
        fb = await feedback.create(s, chat_id=9, category="khac", text="Gọi tôi 0912 345 678")
        old = await feedback.create(s, chat_id=9, category="khac", text="Email a@b.vn")
        await survey.save(s, scores=dict.fromkeys(survey.KEYS, 4), comment="Số 0987654321", case=None)
    async with session_scope(engine) as s:  # the stored copy is what is read; an old row without one is masked now
        await s.exec(text("UPDATE feedback SET text_masked = 'STORED COPY' WHERE id = :i").bindparams(i=fb.id))  # type: ignore[call-overload]
        await s.exec(text("UPDATE feedback SET text_masked = NULL WHERE id = :i").bindparams(i=old.id))  # type: ignore[call-overload]
        await s.exec(text("UPDATE surveyresponse SET comment_masked = 'STORED COMMENT'"))  # type: ignore[call-overload]
    async with _client(services) as c:
        reply = "Cán bộ sẽ gọi lại Anh/Chị qua số 0912 345 678 hoặc email a@b.vn"
        r = await c.patch(f"/api/v1/feedback/{fb.tracking_no}", json={"reply": reply}, headers=writer)
        assert r.status_code == 200 and "0912" not in r.text and "a@b.vn" not in r.text
        masked = {i["tracking_no"]: i for i in (await c.get("/api/v1/feedback", headers=reader)).json()["items"]}
        full = {i["tracking_no"]: i for i in (await c.get("/api/v1/feedback", headers=auditor)).json()["items"]}
        surveys = (await c.get("/api/v1/surveys", headers=reader)).json()["items"]
    assert masked[fb.tracking_no]["text"] == "STORED COPY"
    assert masked[fb.tracking_no]["reply"] == "Cán bộ sẽ gọi lại Anh/Chị qua số <số> hoặc email <email>"
    assert masked[old.tracking_no]["text"] == "Email <email>"
    assert full[fb.tracking_no]["reply"] == reply and full[fb.tracking_no]["text"] == "Gọi tôi 0912 345 678"
    assert surveys[0]["comment"] == "STORED COMMENT"


# --- names -----------------------------------------------------------------------------------------------------


async def test_names_lose_direction_overrides_and_invisible_characters(engine, services) -> None:  # type: ignore[no-untyped-def]
    w = _h(await _key(engine, "registry", "read", "write", "pii"))
    async with _client(services) as c:
        r = await c.post("/api/v1/cases", json=_case_body(applicant_name="Nguyễn\u202e nA\u200b năV"), headers=w)
        assert r.status_code == 201 and r.json()["applicant_name"] == "Nguyễn nA năV"
        r = await c.patch(f"/api/v1/cases/{CODE}", json={"applicant_name": "\u200b\u202e\u2066"}, headers=w)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "applicant_name"]
    async with session_scope(engine) as s:
        case = (await s.exec(select(Case))).one()
        assert case.applicant_name == "Nguyễn nA năV"


def test_the_import_cleans_names(kb, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.settings import Settings
    from bot.staff.importing import read_file

    path = tmp_path / "cases.csv"
    header = "code,procedure_id,agency,applicant_name,phone,received_at,appointment_date\n"
    rest = "0912345678,14/11/2026,19/11/2026"
    rows = [
        f"000.00.15.H57-261114-0001,cu-tru.dang-ky-tam-tru,Công an xã,Lê\u202e Văn\u200b Bình,{rest}",
        f"000.00.15.H57-261114-0002,cu-tru.dang-ky-tam-tru,Công an xã,\u200b\u2066,{rest}",
    ]
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    parsed = read_file(path, kb=kb, settings=Settings(_env_file=None))  # type: ignore[call-arg]
    assert [r.values["applicant_name"] for r in parsed.rows] == ["Lê Văn Bình"]
    [err] = parsed.errors
    assert err.row == 3 and "applicant_name" in str(err) and "invisible" in str(err)


# --- slip link and unlock routes -------------------------------------------------------------------------------


async def test_slip_link_and_unlock_routes(engine, services, settings) -> None:  # type: ignore[no-untyped-def]
    writer = _h(await _key(engine, "mot-cua", "read", "write"))
    reader = _h(await _key(engine, "reader", "read"))
    async with _client(services) as c:
        assert (await c.post("/api/v1/cases", json=_case_body(birth_year=1990), headers=writer)).status_code == 201
        assert (await c.get(f"/api/v1/cases/{CODE}/slip-link", headers=reader)).status_code == 403
        link = (await c.get(f"/api/v1/cases/{CODE.replace('.', '')}/slip-link", headers=writer)).json()
        assert link["code"] == CODE and link["link"] == f"https://t.me/{settings.bot_username}?start={link['payload']}"
        assert len(link["payload"]) <= 64 and all(ch.isalnum() or ch in "_-" for ch in link["payload"])
        opened = read_payload(link["payload"], settings.secret_key.get_secret_value())
        assert opened.code == CODE and opened.signed
        weeks_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=40)
        for chat in range(3):  # three wrong years, a fortnight apart: the third locks the code
            async with session_scope(engine) as s:
                at = weeks_ago + dt.timedelta(days=14 * chat)
                await verification.verify(s, chat_id=chat, code=CODE, answer="1900", verify_by="birth_year", now=at)
        async with session_scope(engine) as s:
            assert (await verification.block(s, chat_id=9, code=CODE, verify_by="birth_year")).locked  # type: ignore[union-attr]
        assert (await c.post(f"/api/v1/cases/{CODE}/unlock", headers=reader)).status_code == 403
        r = await c.post(f"/api/v1/cases/{CODE}/unlock", headers=writer)
        assert r.status_code == 200, r.text
        assert r.json() == {"code": CODE, "was_locked": True, "failures_cleared": 3, "alerts_resolved": 1}
        assert (await c.post("/api/v1/cases/000.00.15.H57-261114-0099/unlock", headers=writer)).status_code == 404
    async with session_scope(engine) as s:
        assert await verification.block(s, chat_id=9, code=CODE, verify_by="birth_year") is None
        assert (await s.exec(select(ApiKey))).all()
