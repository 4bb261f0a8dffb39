"""The console in a real browser: the API+console application under uvicorn on 127.0.0.1 (a free port, in the
test's event loop, on the test database of either backend), headless Chromium from Debian's packages driven by
Playwright (no `playwright install`: the browser is /usr/bin/chromium, or CHROMIUM), axe-core for accessibility
(shipped by axe-playwright-python), and, for what citizens receive, the real PTB application against the fake
Bot API server (tests/handlers/conftest.py).

Waiting is on elements and on the fake server's messages, never on sleeps.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, Page, async_playwright, expect

from api.app import create_app
from bot.accounts import audit, users
from bot.notify.dispatcher import in_quiet_hours
from bot.services import Services
from bot.storage.db import session_scope
from bot.storage.models import utcnow
from tests.handlers.conftest import Harness, bot, bot_settings, telegram_server  # noqa: F401  (fixtures used here)
from tests.telegram_api import free_port

ROOT_DIR = Path(__file__).resolve().parent.parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "mat-khau-thu-nghiem-1"
VN = ZoneInfo("Asia/Ho_Chi_Minh")
WAIT_MS = 10_000

expect.set_options(timeout=WAIT_MS)


@pytest.fixture
def mode() -> str:
    """The bot of tests/handlers/conftest.py, in long polling only."""
    return "polling"


@dataclass
class Console:
    url: str
    services: Services

    def at(self, path: str) -> str:
        return self.url + path


@pytest.fixture
async def console(settings, kb, matcher, engine) -> AsyncIterator[Console]:  # type: ignore[no-untyped-def]
    """`create_app(services)` served by uvicorn in this event loop, as `tthc-bot api` serves it."""
    services = Services(settings, kb, matcher, engine)
    port = free_port()
    config = uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # up to 5 s for the socket to listen
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    try:
        yield Console(f"http://127.0.0.1:{port}", services)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no Chromium at {CHROMIUM}: apt-get install -y chromium (see .ci/run)", pytrace=False)
    async with async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN", bypass_csp=True)
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def add_staff(engine, username: str, role: str) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        await users.add(s, username, role, PASSWORD, by=audit.Actor(audit.CLI))


async def login(page: Page, console: Console, username: str, password: str = PASSWORD) -> None:
    await page.goto(console.at("/console/login"))
    await page.get_by_label("Tên đăng nhập").fill(username)
    await page.get_by_label("Mật khẩu").fill(password)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Đăng nhập").click()
    await expect(page.get_by_role("button", name="Đăng xuất")).to_be_visible()


async def submit(page: Page, button: Any) -> int:
    """Click a form's button and wait for the page it leads to; its HTTP status (after a redirect, the last page's)."""
    async with page.expect_navigation() as nav:
        await button.click()
    response = await nav.value
    return response.status if response else 0


async def deliver(h: Harness) -> None:
    """Send what the outbox holds now through the bot's own dispatcher, at a moment outside quiet hours (now, or
    07:00 when the test runs at night), so a status message is sent whatever the time of day."""
    now = utcnow()
    if in_quiet_hours(now, VN):
        local = now.astimezone(VN)
        morning = dt.datetime.combine(local.date(), dt.time(7, 0, 1), tzinfo=VN)
        now = (morning if local.hour < 7 else morning + dt.timedelta(days=1)).astimezone(dt.UTC)
    for step in range(3):
        # the per-chat limit (1 message a second, on the event loop's clock) holds back a message that follows one
        # just sent, and puts it a second later: wait that second for real, and look again a little later
        await asyncio.sleep(1.1)
        await h.app.bot_data.dispatcher.drain(now=now + dt.timedelta(seconds=2 * step))


async def axe(page: Page) -> dict[str, int]:
    """axe-core's violations on the page, counted by impact (nodes, not rules)."""
    results = await Axe().run(page)
    counts = {"critical": 0, "serious": 0, "moderate": 0, "minor": 0}
    for violation in results.response["violations"]:
        counts[violation.get("impact") or "minor"] += len(violation["nodes"])
    return counts
