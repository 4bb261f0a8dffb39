"""Per-chat flood control: past N messages a minute a chat gets one polite line, then silence for a while.

Kept in memory: it protects this process from a burst; it is not a security boundary (attempt limits
on case lookups are counted in the database).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FloodGuard:
    limit: int = 20
    window: float = 60.0
    silence: float = 120.0
    clock: Callable[[], float] = time.monotonic
    _seen: dict[int, deque[float]] = field(default_factory=dict)
    _muted_until: dict[int, float] = field(default_factory=dict)

    def check(self, chat_id: int) -> str:
        """'ok', 'warn' (first message over the limit: say so once) or 'drop' (stay silent)."""
        now = self.clock()
        if self._muted_until.get(chat_id, 0.0) > now:
            return "drop"
        seen = self._seen.setdefault(chat_id, deque())
        while seen and now - seen[0] > self.window:
            seen.popleft()
        seen.append(now)
        if len(seen) > self.limit:
            self._muted_until[chat_id] = now + self.silence
            seen.clear()
            return "warn"
        if len(self._seen) > 50_000:  # forget idle chats so memory stays bounded
            for cid in [c for c, q in self._seen.items() if not q or now - q[-1] > self.window][:10_000]:
                del self._seen[cid]
        return "ok"
