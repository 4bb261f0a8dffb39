"""Updates handled concurrently across chats, one at a time within a chat.

PTB's default application handles one update at a time, so with Telegram's round trip (about 100 ms from
Việt Nam) every citizen waits for every other citizen's reply (docs/benchmarks.md, Bot throughput).
Plain `concurrent_updates(n)` fixes that but lets two quick messages of one citizen race on the chat's state
(a receipt code and the phone digits typed right after it). This processor keeps each chat's updates in
arrival order and lets different chats proceed together, at most `limit` at once (UPDATE_CONCURRENCY).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

PENDING = 1024  # updates accepted at once (PTB's bound); the work itself is bounded by `limit`


class PerChatUpdateProcessor(BaseUpdateProcessor):
    def __init__(self, limit: int = 8) -> None:
        # PTB takes its semaphore before calling us, so it must not be the work limit: updates queued behind
        # a busy chat would hold slots that other chats could use
        super().__init__(max(PENDING, limit))
        self._work = asyncio.Semaphore(limit)
        self._chats: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
        if chat is None:
            async with self._work:
                await coroutine
            return
        lock = self._chats.setdefault(chat, asyncio.Lock())
        self._waiting[chat] = self._waiting.get(chat, 0) + 1
        try:
            async with lock, self._work:
                await coroutine
        finally:
            self._waiting[chat] -= 1
            if not self._waiting[chat]:  # nobody else queued for this chat: forget it, so memory stays flat
                del self._waiting[chat], self._chats[chat]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
