"""Telegram's sending limits for the dispatcher, on aiolimiter's leaky buckets (the library PTB's own
AIORateLimiter uses): about 30 messages a second overall, one a second per chat, and after a 429 nothing at all
until its retry_after has passed.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Callable

from aiolimiter import AsyncLimiter


class _ClockedBucket(AsyncLimiter):
    """aiolimiter's bucket measured on a given clock instead of the event loop's: for a simulated calendar, where
    the outbox's due times and the per-chat spacing must move together. Only asked `has_capacity` and acquired
    when it has room (the dispatcher defers a chat that is not ready, it never waits on one): its waits would be
    scheduled on the event loop, whose clock is not this one."""

    __slots__ = ("_clock",)

    def __init__(self, max_rate: float, time_period: float, clock: Callable[[], float]) -> None:
        super().__init__(max_rate, time_period)
        self._clock = clock

    def _leak(self) -> None:
        # aiolimiter's own _leak (1.x), reading self._clock() where it reads the event loop's time
        now = self._clock()
        if self._level:
            self._level = max(self._level - (now - self._last_check) * self._rate_per_sec, 0)
        self._last_check = now


class RateLimiter:
    """About 30 messages a second overall and one a second per chat (Telegram's limits); after a 429, nothing at all
    until Telegram's retry_after has passed (as PTB's AIORateLimiter does).

    Overall: a bucket that holds one message and leaks `per_second`, so starts are evenly spaced; a bucket of 30
    (PTB's default) would let 60 through in its first second, the 30 it holds and the 30 that leak. Per chat: a
    bucket of one that leaks in `per_chat_interval`; the dispatcher asks `chat_ready` and defers a message to a
    chat that is not (through the outbox, so it never sleeps on one chat).

    Memory: the chats' buckets are kept in the order of their last message (an LRU). Beyond `max_chats`, the least
    recently used are forgotten while their bucket is empty, which makes them exactly like a chat never seen, so
    this changes no decision; all buckets leak at the same rate, so the oldest is the emptiest, and at most
    per_second * per_chat_interval + 1 buckets are not empty. The mapping never holds more than about
    max_chats + 31 chats, however many chats the bot sends to.

    `clock` measures per-chat spacing and pauses, the two that are compared with the outbox's due times: by default
    the event loop's time (aiolimiter's own clock); a simulation passes its own (tests/handlers/
    test_notifications_e2e.py). The overall pace is always on the event loop's clock, because it is slept.
    """

    def __init__(
        self,
        per_second: float = 30.0,
        per_chat_interval: float = 1.0,
        *,
        clock: Callable[[], float] | None = None,
        max_chats: int = 1_000,
    ) -> None:
        if per_second <= 0 or per_chat_interval <= 0 or max_chats < 1:
            raise ValueError("RateLimiter needs per_second > 0, per_chat_interval > 0 and max_chats >= 1")
        self.per_second, self.per_chat_interval, self.max_chats = per_second, per_chat_interval, max_chats
        self._clock = clock
        self._overall = AsyncLimiter(1, 1 / per_second)
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()
        self._paused_until = -math.inf

    def now(self) -> float:
        """The time of per-chat spacing and pauses: `clock`, or the running event loop's."""
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def chat_ready(self, chat_id: int) -> bool:
        """May a message to this chat start now? A chat with no bucket (new or forgotten) may."""
        bucket = self._chats.get(chat_id)
        return bucket is None or bucket.has_capacity()

    def pause(self, seconds: float) -> None:
        """Telegram answered 429: nothing to anyone for `seconds` (a longer pause already running is kept)."""
        self._paused_until = max(self._paused_until, self.now() + seconds)

    def paused(self) -> bool:
        """Is a 429's pause still running? The dispatcher then claims nothing and gives back what it holds."""
        return self.now() < self._paused_until

    async def wait(self) -> None:
        """Until the overall pace lets the next message start. A pause is not waited out here: the dispatcher gives
        its rows back instead of holding them through it."""
        await self._overall.acquire()

    async def start(self, chat_id: int) -> None:
        """Count a message to `chat_id` starting now. Call it after `chat_ready` said yes, with no other message
        to that chat started in between: then it returns at once."""
        bucket = self._chats.pop(chat_id, None) or self._bucket()
        self._chats[chat_id] = bucket  # the most recently used last
        await bucket.acquire()
        while len(self._chats) > self.max_chats:
            oldest = next(iter(self._chats.values()))
            if not oldest.has_capacity():
                break  # the oldest is the emptiest: no other bucket is empty either
            self._chats.popitem(last=False)

    def tracked_chats(self) -> int:
        """How many chats' buckets are held (for tests of the memory bound)."""
        return len(self._chats)

    def _bucket(self) -> AsyncLimiter:
        if self._clock is None:
            return AsyncLimiter(1, self.per_chat_interval)
        return _ClockedBucket(1, self.per_chat_interval, self._clock)
