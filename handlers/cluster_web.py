"""Cluster mode's HTTP side on the webhook port: the webhook endpoint and the balancer's health checks.

- `POST /telegram`: Telegram's webhook (secret token checked). The update is stored in the inbox and answered 200
  at once, whether new or a redelivery; 503 while draining (Telegram and the balancer try again elsewhere).
- `GET /healthz`: 200 while the process runs (liveness).
- `GET /readyz`: 200 when the instance has started, is not draining and reaches the database (readiness: the
  balancer sends webhook calls only to ready instances).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging

from aiohttp import web
from sqlalchemy import text

from bot.services import Services
from bot.storage.db import DB_ERRORS
from handlers.cluster import Node, install_signals

log = logging.getLogger(__name__)
READY_TIMEOUT = 2.0  # seconds the readiness check waits for the database
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def make_web(node: Node, secret: str) -> web.Application:
    async def webhook(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
            return web.Response(status=403)
        if node.draining:
            return web.Response(status=503, text="draining")
        try:
            payload = await request.json()
            if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
                raise ValueError("not an update")
        except (ValueError, json.JSONDecodeError):
            return web.Response(status=400)
        try:
            await node.receive(payload)
        except DB_ERRORS as exc:  # not stored: Telegram delivers it again
            log.warning("cluster: update not stored, database unavailable (%s)", type(exc).__name__)
            return web.Response(status=503)
        return web.Response(text="ok")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def readyz(request: web.Request) -> web.Response:
        if node.draining or not node.started:
            return web.Response(status=503, text="draining" if node.draining else "starting")
        try:
            async with asyncio.timeout(READY_TIMEOUT), node.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except (*DB_ERRORS, TimeoutError):
            return web.Response(status=503, text="database unavailable")
        return web.Response(text="ready")

    app = web.Application()
    app.router.add_post("/telegram", webhook)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


async def serve(services: Services, *, stop: asyncio.Event | None = None) -> None:
    """One instance until SIGTERM/SIGINT (or `stop`): HTTP first (the balancer sees it starting), then the node."""
    settings = services.settings
    assert settings.webhook_url and settings.webhook_secret  # checked by run_bot
    secret = settings.webhook_secret.get_secret_value()
    node = Node(services)
    stop = stop or asyncio.Event()
    install_signals(stop)
    runner = web.AppRunner(make_web(node, secret), access_log=None, shutdown_timeout=5)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.webhook_listen, settings.webhook_port).start()
        await node.start(webhook_url=f"{settings.webhook_url.rstrip('/')}/telegram", secret=secret)
        await stop.wait()
        await node.drain()
    finally:
        await runner.cleanup()
        with contextlib.suppress(Exception):
            await node.close()
    log.info("cluster: instance %s stopped", node.holder)
