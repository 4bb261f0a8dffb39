"""One retry policy for everything that sends: the dispatcher's outbox rows and the bot's replies.

Both used to decide for themselves (the dispatcher's `backoff`, the reply path's own loop); now a `RetryPolicy`
says, for an error of `bot.notify.errors`, whether to try again and after how long. The dispatcher turns that delay
into a new due time for the outbox row (nothing sleeps, the row waits in the database); `retrying` sleeps it in
process, for a caller that is waiting (a citizen's reply), so its policy must be short.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from bot.notify.errors import Blocked, Rejected, RetryLater, SendError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """When to try again after a failed send, and after how long.

    attempts: tries in all, the first included: after the `attempts`-th failure, give up.
    base, cap: after the n-th failure wait base * 2**(n-1) seconds, at most cap (exponential backoff, so a server
      in trouble is not hammered).
    max_wait: the longest RetryLater (Telegram's 429) waited out, and then only while attempts remain: someone is
      waiting, and a reply that comes a minute late is worse than an error. None: nobody is waiting (the outbox),
      so a RetryLater is always honoured and never makes the policy give up: Telegram slowing the whole bot down
      says nothing about this message, and the outbox must not lose one for it.
    """

    attempts: int
    base: float
    cap: float
    max_wait: float | None = None

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base < 0 or self.cap < self.base:
            raise ValueError(f"RetryPolicy needs attempts >= 1 and 0 <= base <= cap, got {self}")

    def delay(self, attempt: int, exc: BaseException) -> float | None:
        """Seconds to wait before the next try, `exc` having ended try number `attempt` (1 for the first);
        None: give up. Blocked and Rejected give up at once (retrying cannot help); any exception that is not a
        SendError counts as Transient, so an unforeseen error of a network library never loses an outbox row (the
        dispatcher asks about every exception; `retrying` only about SendErrors)."""
        if isinstance(exc, RetryLater):
            seconds = max(exc.seconds, 0.0)
            if self.max_wait is None:
                return seconds
            return seconds if seconds <= self.max_wait and attempt < self.attempts else None
        if isinstance(exc, Blocked | Rejected) or attempt >= self.attempts:
            return None
        return min(self.cap, self.base * 2.0 ** min(attempt - 1, 64))  # the exponent bound keeps it a float


OUTBOX_RETRY = RetryPolicy(attempts=8, base=2.0, cap=600.0)
"""The dispatcher's: 2, 4, 8 … 128 s between tries (about 4 minutes in all), then the row is marked failed; a 429's
retry_after is always waited out."""

REPLY_RETRY = RetryPolicy(attempts=3, base=0.5, cap=1.0, max_wait=10.0)
"""A reply the citizen is waiting for: three tries at most; a network error is retried after 0.5 s, then 1 s; a 429
is waited out when its retry_after is 10 s or less; a refusal is not retried."""


async def retrying(
    call: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> T:
    """Await `call()` until it succeeds or `policy` gives up; giving up re-raises the last try's SendError as it
    was. `call` raises the errors of bot.notify.errors (a channel maps its own to them); any other exception is
    not a failed send but a fault the caller must see (a bug), so it is raised at once, not retried. The waits
    are slept here (`sleep`, replaceable in tests): this is for callers that are waiting anyway."""
    attempt = 1
    while True:
        try:
            return await call()
        except SendError as exc:
            wait = policy.delay(attempt, exc)
            if wait is None:
                raise
            log.debug("try %d failed (%s); again in %.1f s", attempt, type(exc).__name__, wait)
        await sleep(wait)
        attempt += 1
