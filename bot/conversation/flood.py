"""Per-chat flood control: past N messages a minute a chat gets one polite line, then silence for a while.

Kept in memory: it protects this process from a burst; it is not a security boundary (attempt limits
on case lookups are counted in the database).

O(1) per message whatever the number of chats: each chat has a token bucket (a few numbers, refilled as time
passes: `limit` messages at once, then `limit` per `window`), kept in an LRU of at most `size` chats. A chat pushed
out of the LRU was the longest silent of them all; it starts again with a full bucket, which is what it would have
had anyway unless the LRU holds more than `size` chats active within one window.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float  # when `tokens` was computed
    muted_until: float = 0.0


@dataclass
class FloodGuard:
    limit: int = 20
    window: float = 60.0
    silence: float = 120.0
    clock: Callable[[], float] = time.monotonic
    size: int = 100_000  # chats remembered, the least recently seen forgotten first
    button_limit: int = 60  # button presses a chat may make per window: a budget of their own, more generous
    _chats: OrderedDict[int, _Bucket] = field(default_factory=OrderedDict)
    _buttons: OrderedDict[int, _Bucket] = field(default_factory=OrderedDict)

    def check(self, chat_id: int, *, button: bool = False) -> str:
        """'ok', 'warn' (first message over the limit: say so once) or 'drop' (stay silent). Button presses are
        counted apart, against `button_limit`: ticking a checklist is not a flood, 500 presses in two seconds are."""
        if button:
            return self._take(self._buttons, chat_id, self.button_limit)
        return self._take(self._chats, chat_id, self.limit)

    def _take(self, chats: OrderedDict[int, _Bucket], chat_id: int, limit: int) -> str:
        now = self.clock()
        b = chats.get(chat_id)
        if b is None:
            b = chats[chat_id] = _Bucket(float(limit), now)
            if len(chats) > self.size:
                chats.popitem(last=False)  # the longest silent chat: one per message, never a scan
        else:
            chats.move_to_end(chat_id)
        if b.muted_until > now:
            return "drop"
        b.tokens = min(float(limit), b.tokens + (now - b.at) * limit / self.window)
        b.at = now
        if b.tokens < 1.0:
            b.muted_until, b.tokens = now + self.silence, float(limit)
            return "warn"
        b.tokens -= 1.0
        return "ok"
