"""bot.notify.limits.RateLimiter: Telegram's limits on aiolimiter's buckets. Per-chat spacing, pauses and the
memory bound are checked on a fake clock (`clock=`); the overall pace, which is slept, on the event loop's clock,
by the spacing of the starts it allows (never by how fast a test runs)."""

from __future__ import annotations

import asyncio

import pytest

from bot.notify.limits import RateLimiter


class FakeClock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


async def test_overall_rate_spaces_every_start() -> None:
    limiter = RateLimiter(per_second=200)  # 5 ms apart, so the test stays short
    loop = asyncio.get_running_loop()
    starts = []
    for _ in range(12):
        await limiter.wait()
        starts.append(loop.time())
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 1 / 200 - 1e-6, gaps  # no burst: not even the first two come together


async def test_overall_rate_holds_across_concurrent_waiters() -> None:
    limiter = RateLimiter(per_second=200)
    loop = asyncio.get_running_loop()
    starts: list[float] = []

    async def one() -> None:
        await limiter.wait()
        starts.append(loop.time())

    await asyncio.gather(*(one() for _ in range(10)))
    starts.sort()
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= 1 / 200 - 1e-6


async def test_one_message_a_second_per_chat() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert limiter.chat_ready(1) and limiter.chat_ready(2)
    await limiter.start(1)
    assert not limiter.chat_ready(1) and limiter.chat_ready(2)  # other chats are not held up
    clock.t += 0.999
    assert not limiter.chat_ready(1)
    clock.t += 0.001
    assert limiter.chat_ready(1)
    await limiter.start(1)
    assert not limiter.chat_ready(1)


async def test_per_chat_limit_on_the_event_loops_clock() -> None:
    """The production setting (no clock given): the same decisions on the loop's time."""
    limiter = RateLimiter(per_chat_interval=0.05)
    await limiter.start(7)
    assert not limiter.chat_ready(7) and limiter.chat_ready(8)
    await asyncio.sleep(0.06)
    assert limiter.chat_ready(7)


async def test_memory_stays_bounded_with_many_chats() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock, max_chats=50)
    for chat in range(5_000):  # 16 chats a second (a step exact in binary), 5,000 chats in all
        assert limiter.chat_ready(chat)
        await limiter.start(chat)
        assert limiter.tracked_chats() <= 50
        clock.t += 1 / 16
    # forgetting idle chats changed no decision: the last second's chats still wait, older ones may send
    assert not any(limiter.chat_ready(c) for c in range(5_000 - 15, 5_000))
    assert all(limiter.chat_ready(c) for c in range(5_000 - 15))


async def test_a_busy_chat_is_never_forgotten_to_save_memory() -> None:
    clock = FakeClock()  # time stands still: every chat sent to is still within its second
    limiter = RateLimiter(clock=clock, max_chats=5)
    for chat in range(12):
        await limiter.start(chat)
    assert limiter.tracked_chats() == 12 and not any(limiter.chat_ready(c) for c in range(12))
    clock.t += 1
    await limiter.start(99)  # all idle now: pruned back to the bound
    assert limiter.tracked_chats() <= 5 and all(limiter.chat_ready(c) for c in range(12))


async def test_a_429_pauses_everything_until_retry_after() -> None:
    clock = FakeClock()
    limiter = RateLimiter(clock=clock)
    assert not limiter.paused()
    limiter.pause(3)
    clock.t += 2.5
    assert limiter.paused()
    limiter.pause(0.25)  # a shorter pause does not cut the running one short
    clock.t += 0.25
    assert limiter.paused()
    clock.t += 0.25  # retry_after has passed
    assert not limiter.paused()
    limiter.pause(1)
    assert limiter.paused()


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        RateLimiter(per_second=0)
    with pytest.raises(ValueError):
        RateLimiter(max_chats=0)
