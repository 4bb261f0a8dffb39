"""Cluster mode's HTTP side and node in one process on PostgreSQL, against the fake Bot API server: the webhook
stores an update once however often it is delivered and the node answers it once; wrong secrets are refused;
readiness follows the drain; SQLite is refused with one line naming the setting."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr

from bot.cluster import inbox
from bot.services import Services
from bot.storage.db import session_scope
from handlers.cluster import Node
from handlers.cluster_web import SECRET_HEADER, make_web
from handlers.run import run_cluster
from tests.handlers.conftest import TOKEN, WEBHOOK_SECRET
from tests.telegram_api import FakeTelegram

SIGNED = {SECRET_HEADER: WEBHOOK_SECRET}


async def test_a_redelivered_update_is_answered_once_and_drain_turns_readiness_off(
    backend, settings, kb, matcher, engine
) -> None:  # type: ignore[no-untyped-def]
    if backend != "postgres":
        pytest.skip("cluster mode runs on PostgreSQL only")
    async with FakeTelegram(TOKEN) as server:
        st = settings.model_copy(
            update={"telegram_bot_token": SecretStr(TOKEN), "telegram_api_url": server.url, "cluster_lease_seconds": 5}
        )
        node = Node(Services(st, kb, matcher, engine), holder="t1")
        assert node.conversation.states.ttl == 0  # another instance may have changed a chat's state
        async with TestClient(TestServer(make_web(node, WEBHOOK_SECRET))) as http:
            assert (await http.get("/readyz")).status == 503  # not started yet
            await node.start()
            assert (await http.get("/healthz")).status == 200
            assert (await http.get("/readyz")).status == 200
            update = {"update_id": 77, "message": server._user_message(5001, 5001, "private", text="xin chào")}
            assert (await http.post("/telegram", json=update)).status == 403  # no secret
            for _ in range(3):  # Telegram retries a call it thinks timed out
                assert (await http.post("/telegram", json=update, headers=SIGNED)).status == 200
            await server.wait_for_bot_messages(5001, 1, timeout=15)
            for _ in range(200):  # marked answered right after the send
                async with session_scope(engine) as s:
                    if await inbox.open_count(s) == 0:
                        break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the update was not marked answered")
            await node.drain()
            assert (await http.get("/readyz")).status == 503
            late = {"update_id": 78, "message": server._user_message(5001, 5001, "private", text="cảm ơn")}
            assert (await http.post("/telegram", json=late, headers=SIGNED)).status == 503
        assert len(server.bot_messages(5001)) == 1
        await node.conversation.close()
        await node.bot.shutdown()


def test_cluster_mode_refuses_sqlite_and_polling(backend, settings, kb, matcher, engine) -> None:  # type: ignore[no-untyped-def]
    services = Services(settings.model_copy(update={"cluster": True}), kb, matcher, engine)
    with pytest.raises(SystemExit, match="^error: CLUSTER=true receives updates by webhook only"):
        run_cluster(services, webhook=False)
    if backend == "sqlite":
        with pytest.raises(SystemExit, match="^error: CLUSTER=true needs PostgreSQL; set DATABASE_URL"):
            run_cluster(services, webhook=True)
