"""The aiohttp backend sends what PTB's own httpx backend sends, and maps failures to PTB's errors.

A small HTTP server on 127.0.0.1 records each request; the same Bot calls go through PTB's `HTTPXRequest` and
through `AiohttpRequest`, and the server must have seen the same thing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import HTTPXRequest

from handlers.transport import AiohttpRequest
from tests.telegram_api import free_port

TOKEN = "123:ABC"
MESSAGE = {"message_id": 1, "date": 1764000000, "chat": {"id": 5, "type": "private"}}


class Recorder:
    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.delay = 0.0

    async def handle(self, request: web.Request) -> web.Response:
        if request.match_info["method"] == "getMe":
            return web.json_response({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "tthc"}})
        await asyncio.sleep(self.delay)
        form = await request.post()
        fields = {k: (v.filename, v.file.read()) if isinstance(v, web.FileField) else v for k, v in form.items()}
        self.seen.append({"method": request.match_info["method"], "type": request.content_type, "fields": fields})
        if request.match_info["method"] == "sendMessage" and fields.get("text") == "bad":
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}, status=400
            )
        return web.json_response({"ok": True, "result": MESSAGE})


@pytest.fixture
async def recorder() -> AsyncIterator[tuple[Recorder, str]]:
    rec = Recorder()
    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/{{method}}", rec.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    yield rec, f"http://127.0.0.1:{port}/bot"
    await runner.cleanup()


async def _calls(bot: Bot) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Lệ phí", callback_data="f:abc:fee|tag")]])
    await bot.send_message(5, "<b>Đăng ký kết hôn</b> & “ngoặc”", parse_mode="HTML", reply_markup=keyboard)
    await bot.send_document(5, InputFile(b"%PDF-1.4 hello", filename="to-khai.pdf"), caption="Tờ khai")


async def test_requests_are_the_same_as_with_ptbs_own_client(recorder) -> None:  # type: ignore[no-untyped-def]
    rec, base = recorder
    for request in (HTTPXRequest(), AiohttpRequest()):
        async with Bot(TOKEN, base_url=base, request=request) as bot:  # type: ignore[arg-type]
            rec.seen.clear()
            await _calls(bot)
            if isinstance(request, HTTPXRequest):
                expected = [dict(s) for s in rec.seen]
    assert [s["method"] for s in rec.seen] == ["sendMessage", "sendDocument"]
    assert rec.seen == expected
    assert rec.seen[0]["type"] == "application/x-www-form-urlencoded"
    assert rec.seen[1]["type"] == "multipart/form-data" and rec.seen[1]["fields"]["document"][1] == b"%PDF-1.4 hello"


async def test_failures_become_ptbs_errors(recorder) -> None:  # type: ignore[no-untyped-def]
    rec, base = recorder
    request = AiohttpRequest(read_timeout=0.2)
    async with Bot(TOKEN, base_url=base, request=request) as bot:
        with pytest.raises(BadRequest, match="text is empty"):
            await bot.send_message(5, "bad")
        rec.delay = 1.0
        with pytest.raises(TimedOut):
            await bot.send_message(5, "slow")
    async with AiohttpRequest() as nobody:
        with pytest.raises(NetworkError):
            await nobody.post(f"http://127.0.0.1:{free_port()}/bot{TOKEN}/getMe")
