"""The staff HTTP API through httpx's ASGI transport, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func
from sqlmodel import select

from api.app import create_app
from api.guards import RateLimiter
from bot.cases.rules import NewCase, create_case, get_case
from bot.conversation.core import Conversation
from bot.feedback import survey
from bot.feedback import tickets as feedback
from bot.notify import subscriptions
from bot.replies.events import Event
from bot.services import Services
from bot.staff import apikeys
from bot.staff.status import set_status
from bot.storage.db import session_scope
from bot.storage.models import Case, CaseEvent, Outbox

CODE = "000.00.15.H57-261114-0001"
P1, P2 = "cu-tru.dang-ky-tam-tru", "can-cuoc.cap-the"
UTC = dt.UTC


def _case_body(code: str = CODE, **extra: Any) -> dict[str, Any]:
    return {
        "code": code,
        "procedure_id": P1,
        "agency": "Công an xã Phú Thượng",
        "office": "Bộ phận Một cửa xã Phú Thượng",
        "applicant_name": "Nguyễn Văn An",
        "phone": "0912 345 678",
        "birth_year": 1990,
        "received_at": "2026-11-14T08:30:00+07:00",
        "appointment_date": "2026-11-19",
    } | extra


async def _key(engine, name: str, *scopes: str) -> str:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        _, token = await apikeys.create(s, name, list(scopes))
    return token


@asynccontextmanager
async def _client(services: Services, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(replace(services, settings=services.settings.model_copy(update=overrides)))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _h(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _counts(engine) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        return tuple([(await s.exec(select(func.count()).select_from(t))).one() for t in (Case, CaseEvent, Outbox)])  # type: ignore[return-value]


@pytest.fixture
def services(settings, kb, matcher, engine) -> Services:  # type: ignore[no-untyped-def]
    return Services(settings, kb, matcher, engine)


@pytest.fixture
async def keys(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {
        "read": await _key(engine, "reader", "read"),
        "write": await _key(engine, "writer", "read", "write"),
        "pii": await _key(engine, "auditor", "read", "pii"),
        "write_only": await _key(engine, "importer", "write"),
        "registry": await _key(engine, "registry", "read", "write", "pii"),
    }


# --- keys and authentication --------------------------------------------------------------------


async def test_keys_are_stored_hashed_and_revocable(engine) -> None:  # type: ignore[no-untyped-def]
    token = await _key(engine, "mot-cua", "write", "read", "read")
    assert token.startswith("tthc_") and len(token) > 40
    async with session_scope(engine) as s:
        row = await apikeys.find(s, "mot-cua")
        assert row is not None and row.scopes == ["read", "write"] and token not in row.key_hash
        assert row.key_hash == apikeys.hash_token(token)
        assert (await apikeys.verify(s, token)).name == "mot-cua"  # type: ignore[union-attr]
        assert await apikeys.verify(s, token + "x") is None and await apikeys.verify(s, "") is None
        with pytest.raises(apikeys.ApiKeyError, match="already exists"):
            await apikeys.create(s, "mot-cua", ["read"])
        with pytest.raises(apikeys.ApiKeyError, match="unknown scope"):
            await apikeys.create(s, "other", ["admin"])
        await apikeys.revoke(s, "mot-cua")
        assert await apikeys.verify(s, token) is None
        assert [k.name for k in await apikeys.list_keys(s)] == ["mot-cua"]


async def test_authentication_and_scopes(engine, keys, services) -> None:  # type: ignore[no-untyped-def]
    revoked = await _key(engine, "old", "read", "write")
    async with session_scope(engine) as s:
        await apikeys.revoke(s, "old")
    async with _client(services) as c:
        health = await c.get("/api/v1/health")
        assert health.status_code == 200 and health.json() == {"status": "ok", "database": "ok"}

        r = await c.get(f"/api/v1/cases/{CODE}")
        assert r.status_code == 401 and r.json()["error"] == "missing_api_key"
        assert r.headers["www-authenticate"] == "Bearer"
        for bad in ("tthc_not-a-key", "garbage", revoked):
            r = await c.get(f"/api/v1/cases/{CODE}", headers=_h(bad))
            assert r.status_code == 401 and r.json()["error"] == "invalid_api_key", bad
        r = await c.get(f"/api/v1/cases/{CODE}", headers={"X-API-Key": revoked})
        assert r.status_code == 401

        # a read-only key cannot write, a write-only key cannot read
        r = await c.post("/api/v1/cases", json=_case_body(), headers=_h(keys["read"]))
        assert r.status_code == 403 and r.json()["error"] == "insufficient_scope" and "write" in r.json()["message"]
        r = await c.post("/api/v1/cases", json=_case_body(), headers={"X-API-Key": keys["write_only"]})
        assert r.status_code == 201
        r = await c.get(f"/api/v1/cases/{CODE}", headers=_h(keys["write_only"]))
        assert r.status_code == 403
        r = await c.get(f"/api/v1/cases/{CODE}", headers={"X-API-Key": keys["read"]})
        assert r.status_code == 200
    assert await _counts(engine) == (1, 1, 0)


# --- cases --------------------------------------------------------------------------------------


async def test_create_read_update(kb, engine, keys, services) -> None:  # type: ignore[no-untyped-def]
    w = _h(keys["write"])
    async with _client(services) as c:
        r = await c.post("/api/v1/cases", json=_case_body(code="000 00 15 h57 261114 0001"), headers=w)
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["code"] == CODE and created["status"] == "received" and created["status_label"] == "Đã tiếp nhận"
        assert created["procedure_name"] == kb.get(P1).name and created["due_date"] == "2026-11-19"
        assert created["applicant_name"] == "Nguyễn V*** A" and created["phone_last4"] is None
        assert created["phone_on_file"] is True and created["received_at"].startswith("2026-11-14T01:30:00")
        assert r.headers["location"] == "/api/v1/cases/0000015H572611140001"

        # the same code in any spelling is a duplicate
        r = await c.post("/api/v1/cases", json=_case_body(code="0000015H572611140001"), headers=w)
        assert r.status_code == 409 and r.json()["error"] == "duplicate_case"
        # unknown procedure, appointment before reception, bad code: 422 with the field
        r = await c.post(
            "/api/v1/cases", json=_case_body(code="000.00.15.H57-261114-0002", procedure_id="nope"), headers=w
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "procedure_id"]
        r = await c.post(
            "/api/v1/cases", json=_case_body(code="000.00.15.H57-261114-0002", appointment_date="13/11/2026"), headers=w
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "appointment_date"]
        r = await c.post("/api/v1/cases", json=_case_body(code="12345"), headers=w)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "code"]

        for spelling in ("000-00-15-H57-261114-0001", "0000015h572611140001", "000.00.15.H57%20261114%200001"):
            r = await c.get(f"/api/v1/cases/{spelling}", headers=w)
            assert r.status_code == 200 and r.json()["code"] == CODE, spelling

        r = await c.patch(  # the phone proves a case is the citizen's: changing it needs pii besides write
            f"/api/v1/cases/{CODE}",
            headers=_h(keys["registry"]),
            json={"appointment_date": "21/11/2026", "phone": "+84 987 654 321", "fee": 15000, "office": None},
        )
        assert r.status_code == 200, r.text
        updated = r.json()
        assert updated["appointment_date"] == "2026-11-21" and updated["fee"] == 15000 and updated["office"] is None
        for bad, loc in (
            ({"status": "returned"}, ["body", "status"]),
            ({"applicant_name": None}, ["body", "applicant_name"]),
            ({"fee": -1}, ["body", "fee"]),
            ({"applicant_name": "A\x00B"}, ["body", "applicant_name"]),
            ({}, ["body"]),
        ):
            r = await c.patch(f"/api/v1/cases/{CODE}", headers=w, json=bad)
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == loc, (bad, r.text)
        r = await c.patch("/api/v1/cases/000.00.15.H57-261114-0099", headers=w, json={"fee": 1})
        assert r.status_code == 404

        r = await c.get(f"/api/v1/cases/{CODE}/history", headers=w)
        assert r.status_code == 200
        assert [(e["status"], e["source"]) for e in r.json()] == [("received", "api:writer")]
    async with session_scope(engine) as s:
        case = await get_case(s, CODE)
        assert case.phone_last4 == "4321" and case.phone_hmac and "987" not in case.phone_hmac  # type: ignore[union-attr]


async def test_personal_data_only_with_the_pii_scope(keys, services) -> None:  # type: ignore[no-untyped-def]
    async with _client(services) as c:
        assert (await c.post("/api/v1/cases", json=_case_body(), headers=_h(keys["write"]))).status_code == 201
        masked = (await c.get(f"/api/v1/cases/{CODE}", headers=_h(keys["read"]))).json()
        full = (await c.get(f"/api/v1/cases/{CODE}", headers=_h(keys["pii"]))).json()
    assert masked["personal_data"] == "masked" and masked["applicant_name"] == "Nguyễn V*** A"
    assert masked["phone_last4"] is None and masked["birth_year"] is None
    assert full["personal_data"] == "full" and full["applicant_name"] == "Nguyễn Văn An"
    assert full["phone_last4"] == "5678" and full["birth_year"] == 1990
    assert "0912" not in json.dumps(full)  # the phone number is never stored, so never returned


async def test_status_change_with_note_notifies_followers(settings, kb, engine, keys, services) -> None:  # type: ignore[no-untyped-def]
    async with _client(services) as c:
        assert (await c.post("/api/v1/cases", json=_case_body(), headers=_h(keys["write"]))).status_code == 201
        async with session_scope(engine) as s:
            assert await subscriptions.follow(s, chat_id=42, case=await get_case(s, CODE), kb=kb, settings=settings)
        r = await c.post(
            f"/api/v1/cases/{CODE.replace('.', ' ')}/status",
            headers=_h(keys["write"]),
            json={
                "status": "need_supplement",
                "note": "Thiếu giấy tờ",
                "missing_documents": ["Giấy xác nhận chỗ ở hợp pháp"],
            },
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["case"]["status"] == "need_supplement"
        assert body["case"]["missing_documents"] == ["Giấy xác nhận chỗ ở hợp pháp"]
        assert body["event"]["note"] == "Thiếu giấy tờ" and body["event"]["source"] == "api:writer"
        r = await c.post(
            f"/api/v1/cases/{CODE}/status",
            headers=_h(keys["write"]),
            json={"status": "overdue", "new_date": "2026-12-14", "note": "Cần xác minh"},
        )
        assert r.status_code == 200 and r.json()["case"]["due_date"] == "2026-12-14"
        history = (await c.get(f"/api/v1/cases/{CODE}/history", headers=_h(keys["read"]))).json()
    assert [e["status"] for e in history] == ["received", "need_supplement", "overdue"]
    async with session_scope(engine) as s:
        rows = (await s.exec(select(Outbox).where(Outbox.chat_id == 42).order_by(Outbox.id))).all()
    kinds = [r.kind for r in rows]
    assert "status:need_supplement" in kinds and "status:overdue" in kinds
    assert "Giấy xác nhận chỗ ở hợp pháp" in next(r for r in rows if r.kind == "status:need_supplement").payload["text"]


async def test_refused_status_changes_write_nothing(settings, kb, engine, keys, services) -> None:  # type: ignore[no-untyped-def]
    w = _h(keys["write"])
    async with _client(services) as c:
        assert (await c.post("/api/v1/cases", json=_case_body(), headers=w)).status_code == 201
        async with session_scope(engine) as s:
            await subscriptions.follow(s, chat_id=42, case=await get_case(s, CODE), kb=kb, settings=settings)
        before = await _counts(engine)

        r = await c.post("/api/v1/cases/000.00.15.H57-261114-0099/status", json={"status": "in_progress"}, headers=w)
        assert r.status_code == 404 and r.json()["error"] == "case_not_found" and "0099" in r.json()["message"]
        r = await c.post("/api/v1/cases/not-a-code/status", json={"status": "in_progress"}, headers=w)
        assert r.status_code == 404 and "does not hold a receipt code" in r.json()["message"]

        r = await c.post(f"/api/v1/cases/{CODE}/status", json={"status": "returned", "note": "x"}, headers=w)
        assert r.status_code == 409
        err = r.json()
        assert err["error"] == "invalid_transition" and "cannot move" in err["message"]
        assert "không thể chuyển từ received sang returned" in err["message_vi"]

        r = await c.post(f"/api/v1/cases/{CODE}/status", json={"status": "overdue", "note": "chậm"}, headers=w)
        assert r.status_code == 422 and r.json()["error"] == "status_requirements"
        assert r.json()["detail"][0]["loc"] == ["body", "new_date"] and "ngày hẹn trả mới" in r.json()["message_vi"]
        r = await c.post(f"/api/v1/cases/{CODE}/status", json={"status": "rejected"}, headers=w)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "note"]
        assert r.json()["message"] == "note: status rejected needs a note giving the reason"
        r = await c.post(
            f"/api/v1/cases/{CODE}/status", json={"status": "need_supplement", "missing_documents": []}, headers=w
        )
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "missing_documents"]
        assert r.json()["detail"][0]["msg"] == "status need_supplement needs the missing documents (or note)"
        assert "danh sách giấy tờ cần bổ sung" in r.json()["message_vi"]
        r = await c.post(f"/api/v1/cases/{CODE}/status", json={"status": "lost"}, headers=w)
        assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "status"]

        assert await _counts(engine) == before
        case = (await c.get(f"/api/v1/cases/{CODE}", headers=w)).json()
        assert case["status"] == "received" and case["status_note"] is None


# --- input limits -------------------------------------------------------------------------------


async def test_bad_json_and_wrong_types_are_422(engine, keys, services) -> None:  # type: ignore[no-untyped-def]
    w = {**_h(keys["write"]), "content-type": "application/json"}
    async with _client(services) as c:
        for raw in (b'{"code": ', b"\xff\xfe{}", b"[" * 40000, b'{"fee": 1' + b"0" * 5000 + b"}", b"NaN!"):
            r = await c.post("/api/v1/cases", content=raw, headers=w)
            assert r.status_code == 422, (raw[:20], r.status_code, r.text)
            assert r.json()["detail"][0]["type"] == "json_invalid"
        r = await c.post("/api/v1/cases", content=b'{"code": ', headers=w)
        assert r.json()["detail"][0]["loc"] == ["body", 9]

        r = await c.post(
            "/api/v1/cases", json=_case_body(appointment_date=5, fee="many", extra=1), headers=_h(keys["write"])
        )
        assert r.status_code == 422
        locs = {tuple(e["loc"]) for e in r.json()["detail"]}
        assert {("body", "appointment_date"), ("body", "fee"), ("body",)} <= locs  # an unknown field: not named
        assert {"loc": ["body"], "msg": "unknown field", "type": "extra_forbidden"} in r.json()["detail"]
        assert all(set(e) == {"loc", "msg", "type"} for e in r.json()["detail"])  # the input is not echoed
        for body in ([], "text", None, {"code": {"nested": [1, 2]}}):
            r = await c.post("/api/v1/cases", json=body, headers=_h(keys["write"]))
            assert r.status_code == 422, body
        r = await c.post(
            "/api/v1/cases", content=b"code=1", headers={**_h(keys["write"]), "content-type": "text/plain"}
        )
        assert r.status_code == 422
        r = await c.get("/api/v1/feedback?limit=abc&status=lost", headers=_h(keys["read"]))
        assert r.status_code == 422 and {tuple(e["loc"]) for e in r.json()["detail"]} == {
            ("query", "limit"),
            ("query", "status"),
        }
        for name in ("A\x00B", "An\ud800", "x" * 201, "   "):
            r = await c.post("/api/v1/cases", content=json.dumps(_case_body(applicant_name=name)).encode(), headers=w)
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "applicant_name"], name
        r = await c.post(
            "/api/v1/cases", json=_case_body(received_at="0001-01-01T00:00:00+14:00"), headers=_h(keys["write"])
        )
        assert r.status_code == 422
    assert await _counts(engine) == (0, 0, 0)


async def test_oversized_body_is_413(keys, services) -> None:  # type: ignore[no-untyped-def]
    big = _case_body(applicant_name="A" * 70_000)
    async with _client(services) as c:
        r = await c.post("/api/v1/cases", json=big, headers=_h(keys["write"]))
        assert r.status_code == 413 and r.json()["error"] == "body_too_large"

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while reading
            for _ in range(20):
                yield b" " * 4096

        r = await c.post(
            "/api/v1/cases", content=chunks(), headers={**_h(keys["write"]), "content-type": "application/json"}
        )
        assert r.status_code == 413
    async with _client(services, api_max_body_bytes=2048) as c:
        r = await c.post("/api/v1/cases", json=_case_body(office="B" * 2100), headers=_h(keys["write"]))
        assert r.status_code == 413
        r = await c.post("/api/v1/cases", json=_case_body(), headers=_h(keys["write"]))
        assert r.status_code == 201


async def test_rate_limit_per_key(keys, services) -> None:  # type: ignore[no-untyped-def]
    async with _client(services, api_rate_limit=60, api_rate_burst=3) as c:
        statuses = [(await c.get(f"/api/v1/cases/{CODE}", headers=_h(keys["read"]))).status_code for _ in range(4)]
        assert statuses == [404, 404, 404, 429]
        r = await c.get(f"/api/v1/cases/{CODE}", headers=_h(keys["read"]))
        assert r.status_code == 429 and r.json()["error"] == "rate_limited" and int(r.headers["retry-after"]) >= 1
        assert (
            await c.get(f"/api/v1/cases/{CODE}", headers=_h(keys["pii"]))
        ).status_code == 404  # other keys unaffected
        bad = [(await c.get("/api/v1/stats", headers=_h("tthc_wrong"))).status_code for _ in range(4)]
        assert bad == [401, 401, 401, 429]  # failed attempts, per client address


async def test_rate_limiter_bursts_then_drains() -> None:
    limiter = RateLimiter(per_minute=6000, burst=2)  # 100 a second, so the test waits 10 ms
    assert [await limiter.check("k") for _ in range(3)] == [0, 0, 1]  # Retry-After: at least one second
    assert await limiter.check("other") == 0  # each key has its own bucket
    await asyncio.sleep(0.02)
    assert await limiter.check("k") == 0
    slow = RateLimiter(per_minute=6, burst=1)
    assert [await slow.check("k") for _ in range(2)] == [0, 10]  # the time one request takes to drain
    assert await RateLimiter(per_minute=0, burst=1).check("k") == 0  # disabled
    many = RateLimiter(per_minute=6000, burst=1)
    many.MAX_KEYS = 3
    for key in ("a", "b", "c"):
        await many.check(key)
    await asyncio.sleep(0.02)  # drained: forgotten when a new key needs room
    await many.check("d")
    assert set(many.buckets) == {"d"}


async def test_unexpected_errors_are_500_with_an_id(services) -> None:  # type: ignore[no-untyped-def]
    app = create_app(services)

    @app.get("/api/v1/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://testserver"
    ) as c:
        r = await c.get("/api/v1/boom")
    assert r.status_code == 500
    body = r.json()
    assert (
        body["error"] == "internal_error"
        and len(body["error_id"]) == 12
        and r.headers["x-error-id"] == body["error_id"]
    )
    assert "secret internals" not in r.text and "Traceback" not in r.text


# --- feedback, surveys, statistics --------------------------------------------------------------


async def test_feedback_listing_and_reply(settings, kb, matcher, engine, keys, services) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        first = await feedback.create(
            s, chat_id=7, category="can-bo", text="Cán bộ không hướng dẫn, gọi tôi 0912 345 678"
        )
        second = await feedback.create(s, chat_id=8, category="kien-nghi", text=f"Hồ sơ {CODE} chậm, mail a@b.vn")
    async with _client(services) as c:
        page = (await c.get("/api/v1/feedback", headers=_h(keys["read"]))).json()
        assert page["total"] == 2 and len(page["items"]) == 2
        texts = {i["tracking_no"]: i for i in page["items"]}
        assert texts[first.tracking_no]["text"] == "Cán bộ không hướng dẫn, gọi tôi <số>"
        assert texts[second.tracking_no]["text"] == f"Hồ sơ {CODE} chậm, mail <email>"
        assert all(i["chat_id"] is None for i in page["items"])
        full = (await c.get("/api/v1/feedback?limit=1&offset=0", headers=_h(keys["pii"]))).json()
        assert full["total"] == 2 and len(full["items"]) == 1 and full["items"][0]["chat_id"] in {7, 8}

        r = await c.patch(
            f"/api/v1/feedback/{first.tracking_no.lower()}",
            headers=_h(keys["write"]),
            json={"reply": "Trung tâm đã nhắc nhở cán bộ và xin lỗi Anh/Chị."},
        )
        assert r.status_code == 200 and r.json()["status"] == "answered"
        r = await c.patch(
            f"/api/v1/feedback/{second.tracking_no}", headers=_h(keys["write"]), json={"status": "processing"}
        )
        assert r.status_code == 200 and r.json()["status"] == "processing" and r.json()["reply"] is None
        assert (
            await c.patch("/api/v1/feedback/GY-000000", headers=_h(keys["write"]), json={"status": "closed"})
        ).status_code == 404
        assert (
            await c.patch(f"/api/v1/feedback/{first.tracking_no}", headers=_h(keys["write"]), json={"status": "x"})
        ).status_code == 422
        assert (
            await c.patch(f"/api/v1/feedback/{first.tracking_no}", headers=_h(keys["read"]), json={"status": "closed"})
        ).status_code == 403

        answered = (await c.get("/api/v1/feedback?status=answered", headers=_h(keys["read"]))).json()
        assert [i["tracking_no"] for i in answered["items"]] == [first.tracking_no]
    # the citizen reads the reply in the bot
    conv = Conversation(Services(settings, kb, matcher, engine))
    [reply] = await conv.handle(Event(7, "command", command="gopy", args=first.tracking_no))
    assert "Đã trả lời" in reply.text and "xin lỗi Anh/Chị" in reply.text


async def test_survey_listing(kb, engine, keys, services) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        case = await create_case(
            session=s,
            secret="x",
            new=NewCase(
                code=CODE,
                procedure_id=P1,
                agency="Công an xã",
                applicant_name="Trần Thị Bình",
                phone=None,
                received_at=dt.datetime(2026, 11, 14, 1, tzinfo=UTC),
                appointment_date=dt.date(2026, 11, 19),
            ),
        )
        await survey.save(s, scores=dict.fromkeys(survey.KEYS, 4), comment="Gọi 0987654321 nếu cần", case=case)
        await survey.save(s, scores=dict.fromkeys(survey.KEYS, 2), comment=None, case=None)
    async with _client(services) as c:
        page = (await c.get("/api/v1/surveys", headers=_h(keys["read"]))).json()
        assert page["total"] == 2
        with_case = next(i for i in page["items"] if i["case_code"])
        assert with_case["case_code"] == CODE and with_case["procedure_name"] == kb.get(P1).name
        assert with_case["average"] == 4.0 and set(with_case["scores"]) == set(survey.KEYS)
        assert with_case["comment"] == "Gọi <số> nếu cần"
        one = (await c.get(f"/api/v1/surveys?procedure_id={P1}", headers=_h(keys["pii"]))).json()
        assert one["total"] == 1 and one["items"][0]["comment"] == "Gọi 0987654321 nếu cần"


async def test_stats_on_a_known_dataset(settings, kb, engine, keys, services) -> None:  # type: ignore[no-untyped-def]
    def at(y: int, m: int, d: int, h: int = 3, mi: int = 0) -> dt.datetime:
        return dt.datetime(y, m, d, h, mi, tzinfo=UTC)

    async def make(s, seq: int, procedure: str, agency: str, path: list[tuple[str, dt.datetime, dict]]) -> None:  # type: ignore[no-untyped-def,type-arg]
        case = await create_case(
            session=s,
            secret="x",
            new=NewCase(
                code=f"000.00.15.H57-261120-{seq:04d}",
                procedure_id=procedure,
                agency=agency,
                applicant_name="Lê Văn Cường",
                phone=None,
                received_at=at(2026, 11, 20, 2),
                appointment_date=dt.date(2026, 11, 25),
            ),
        )
        for status, when, extra in path:
            await set_status(s, case=case, status=status, kb=kb, settings=settings, at=when, **extra)

    a, b = "Công an xã A", "UBND xã B"
    async with session_scope(engine) as s:
        # on time: ready 25/11 03:00 local (24/11 20:00 UTC), due 25/11
        await make(
            s,
            1,
            P1,
            a,
            [
                ("in_progress", at(2026, 11, 21), {}),
                ("ready_for_pickup", at(2026, 11, 24, 20), {}),
                ("returned", at(2026, 11, 27), {}),
            ],
        )
        # late: ready 26/11 00:30 local, returned the same day
        await make(
            s, 2, P1, a, [("ready_for_pickup", at(2026, 11, 25, 17, 30), {}), ("returned", at(2026, 11, 26), {})]
        )
        # rescheduled to 05/12 and ready 03/12: on time against the new date, late against the original one
        await make(
            s,
            3,
            P2,
            b,
            [
                ("overdue", at(2026, 11, 24), {"new_date": dt.date(2026, 12, 5), "note": "xác minh"}),
                ("ready_for_pickup", at(2026, 12, 3), {}),
                ("returned", at(2026, 12, 4), {}),
            ],
        )
        # rejected before the due date: on time; withdrawn: not counted; in progress: open
        await make(s, 4, P2, b, [("rejected", at(2026, 11, 22), {"note": "Không đủ điều kiện"})])
        await make(s, 5, P2, b, [("withdrawn", at(2026, 11, 23), {})])
        await make(s, 6, P1, a, [("in_progress", at(2026, 11, 21), {})])
        await survey.save(s, scores=dict.fromkeys(survey.KEYS, 5), comment=None, case=None)
        await survey.save(
            s,
            scores={"access": 3, "reception": 4, "information": 5, "staff": 4, "result": 2, "feedback": 3},
            comment="ok",
            case=None,
        )
        fb = await feedback.create(s, chat_id=1, category="khac", text="a")
        fb.status = "answered"
        await feedback.create(s, chat_id=2, category="khac", text="b")

    async with _client(services) as c:
        r = await c.get("/api/v1/stats", headers=_h(keys["read"]))
        assert r.status_code == 200, r.text
        st_ = r.json()
        dec = (await c.get("/api/v1/stats?since=01/12/2026&until=2026-12-31", headers=_h(keys["read"]))).json()
        assert (
            await c.get("/api/v1/stats?since=2026-12-02&until=2026-12-01", headers=_h(keys["read"]))
        ).status_code == 422

    cases = st_["cases"]
    assert cases["total"] == 6 and cases["open"] == 1 and cases["closed"] == 5
    assert cases["by_status"] == {
        "received": 0,
        "in_progress": 1,
        "need_supplement": 0,
        "ready_for_pickup": 0,
        "returned": 3,
        "overdue": 0,
        "rejected": 1,
        "withdrawn": 1,
    }
    ot = st_["on_time"]
    assert ot["overall"] == {
        "finished": 4,
        "on_time": 3,
        "late": 1,
        "rate": 0.75,
        "on_time_original": 2,
        "rate_original": 0.5,
    }
    by_proc = {p["procedure_id"]: p for p in ot["by_procedure"]}
    assert (
        by_proc[P1]["rate"] == 0.5 and by_proc[P1]["finished"] == 2 and by_proc[P1]["procedure_name"] == kb.get(P1).name
    )
    assert by_proc[P2]["rate"] == 1.0 and by_proc[P2]["rate_original"] == 0.5
    by_agency = {x["agency"]: x for x in ot["by_agency"]}
    assert by_agency[a]["on_time"] == 1 and by_agency[a]["late"] == 1 and by_agency[b]["rate"] == 1.0
    sat = st_["satisfaction"]
    assert sat["responses"] == 2 and sat["overall_average"] == 4.25
    assert {k["key"]: k["average"] for k in sat["criteria"]} == {
        "access": 4.0,
        "reception": 4.5,
        "information": 5.0,
        "staff": 4.5,
        "result": 3.5,
        "feedback": 4.0,
    }
    assert st_["feedback"]["total"] == 2 and st_["feedback"]["by_status"]["answered"] == 1

    # December: no case received, one finished (the rescheduled one)
    assert dec["cases"]["total"] == 0 and dec["on_time"]["overall"]["finished"] == 1
    assert dec["on_time"]["overall"]["rate"] == 1.0 and dec["on_time"]["overall"]["rate_original"] == 0.0


# --- documentation ------------------------------------------------------------------------------


async def test_openapi_lists_every_endpoint(services) -> None:  # type: ignore[no-untyped-def]
    async with _client(services) as c:
        spec = (await c.get("/openapi.json")).json()
        docs = await c.get("/docs")
    assert docs.status_code == 404  # API_DOCS=true serves it (tests/api/test_hardening.py)
    operations = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert operations == {
        ("POST", "/api/v1/cases"),
        ("GET", "/api/v1/cases/{code}"),
        ("PATCH", "/api/v1/cases/{code}"),
        ("POST", "/api/v1/cases/{code}/status"),
        ("GET", "/api/v1/cases/{code}/history"),
        ("GET", "/api/v1/cases/{code}/slip-link"),
        ("POST", "/api/v1/cases/{code}/unlock"),
        ("GET", "/api/v1/feedback"),
        ("PATCH", "/api/v1/feedback/{tracking_no}"),
        ("GET", "/api/v1/surveys"),
        ("GET", "/api/v1/stats"),
        ("GET", "/api/v1/health"),
    }
    for path, item in spec["paths"].items():
        for method, op in item.items():
            assert op.get("summary") and len(op.get("description", "")) > 20, (method, path)
            if path != "/api/v1/health":
                assert {"bearer", "apiKeyHeader"} <= {k for sec in op["security"] for k in sec}, path
                assert "401" in op["responses"] and "429" in op["responses"]
    assert set(spec["components"]["securitySchemes"]) == {"bearer", "apiKeyHeader"}


# --- property: no body ever makes the API fail with a 500 ------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
_any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
_codes = st.builds("000.00.15.H57-{}-{:04d}".format, st.sampled_from(["261114", "261115"]), st.integers(0, 9999))
_fields = {
    "code": st.one_of(_codes, _any_text, _json),
    "procedure_id": st.one_of(st.sampled_from([P1, P2]), _any_text, _json),
    "agency": st.one_of(_any_text, _json),
    "office": st.one_of(_any_text, _json),
    "applicant_name": st.one_of(_any_text, _json),
    "phone": st.one_of(st.text("0123456789 +-.()", max_size=25), _json),
    "birth_year": st.one_of(st.integers(), _json),
    "fee": st.one_of(st.integers(), st.floats(), _json),
    "received_at": st.one_of(st.datetimes().map(dt.datetime.isoformat), _any_text, _json),
    "appointment_date": st.one_of(
        st.dates().map(dt.date.isoformat), st.dates().map(lambda d: d.strftime("%d/%m/%Y")), _any_text, _json
    ),
    "channel": st.one_of(st.just("truc-tuyen"), _any_text, _json),
}
_printable = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=220)
_plausible = st.fixed_dictionaries(  # shaped like a real case, with any text and numbers: reaches the database
    {
        "code": _codes,
        "procedure_id": st.sampled_from([P1, P2]),
        "agency": _printable,
        "applicant_name": _printable,
        "appointment_date": st.dates(dt.date(2026, 11, 14), dt.date(2100, 12, 31)).map(dt.date.isoformat),
    },
    optional={
        "office": _printable | st.none(),
        "phone": st.from_regex(r"\A(\+84|0)[0-9 .-]{8,14}\Z"),
        "birth_year": st.integers(1850, 2150),
        "fee": st.integers(-10, 2**40),
        "received_at": st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2026, 11, 14), timezones=st.timezones()).map(
            dt.datetime.isoformat
        ),
        "channel": st.sampled_from(["truc-tuyen", "buu-chinh"]) | _any_text,
    },
)
_bodies = st.one_of(_json, st.fixed_dictionaries({}, optional=_fields), _plausible, _plausible)


@pytest.fixture
async def writer_client(engine, services) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:  # type: ignore[no-untyped-def]
    token = await _key(engine, "fuzz", "read", "write")
    async with _client(services, api_rate_limit=0) as c:
        yield c, token


@hsettings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(body=_bodies)
async def test_no_json_body_makes_create_fail_with_500(writer_client, body) -> None:  # type: ignore[no-untyped-def]
    client, token = writer_client
    raw = json.dumps(body, ensure_ascii=True).encode()
    r = await client.post("/api/v1/cases", content=raw, headers={**_h(token), "content-type": "application/json"})
    assert r.status_code in {201, 409, 422}, (body, r.status_code, r.text)
    event(f"status {r.status_code}")
    assert r.json()["error"] if r.status_code != 201 else r.json()["code"]


@hsettings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(raw=st.binary(max_size=200))
async def test_no_byte_string_makes_status_change_fail_with_500(writer_client, raw) -> None:  # type: ignore[no-untyped-def]
    client, token = writer_client
    r = await client.post(
        f"/api/v1/cases/{CODE}/status", content=raw, headers={**_h(token), "content-type": "application/json"}
    )
    assert r.status_code in {404, 422}, (raw, r.status_code, r.text)


# --- command line -------------------------------------------------------------------------------


async def test_apikey_commands(tmp_path, kb, matcher) -> None:  # type: ignore[no-untyped-def]
    """The real command line, once, on its own SQLite file (the key logic itself runs on both backends above)."""
    from bot.settings import Settings
    from bot.storage.db import make_engine
    from bot.storage.migrate import upgrade
    from tests.helpers import cli

    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    await asyncio.to_thread(upgrade, Settings(_env_file=None), url=url)  # type: ignore[call-arg]
    settings = Settings(database_url=url, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    env = {"DATABASE_URL": url, "DATA_DIR": str(tmp_path)}
    created = cli("apikey", "create", "mot-cua", "--scope", "read", "--scope", "pii", env=env)
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    assert token.startswith("tthc_") and "cannot be shown again" in created.stderr
    again = cli("apikey", "create", "mot-cua", "--scope", "admin", env=env)
    assert again.returncode == 1 and "unknown scope" in again.stderr
    engine = make_engine(settings)
    try:
        async with _client(Services(settings, kb, matcher, engine)) as c:
            assert (await c.get("/api/v1/stats", headers=_h(token))).status_code == 200
            revoked = cli("apikey", "revoke", "mot-cua", env=env)
            assert revoked.returncode == 0 and "revoked" in revoked.stdout
            assert (await c.get("/api/v1/stats", headers=_h(token))).status_code == 401
    finally:
        await engine.dispose()
    listed = cli("apikey", "list", "--json", env=env)
    [row] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert row["name"] == "mot-cua" and row["scopes"] == ["read", "pii"] and row["revoked_at"]
    assert token not in listed.stdout
