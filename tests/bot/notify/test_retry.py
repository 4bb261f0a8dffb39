"""bot.notify.retry: one policy for the dispatcher's outbox rows and the bot's replies; `retrying` for the latter.
Also the Telegram channel's side of it (handlers/sender.py): PTB's errors mapped to the core's in one place, and
`send_reply`, the reply path's sender. Sleeps are recorded, never slept."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.notify import dispatcher
from bot.notify.errors import Blocked, Rejected, RetryLater, SendError, Transient
from bot.notify.retry import OUTBOX_RETRY, REPLY_RETRY, RetryPolicy, retrying
from handlers.sender import core_error, send_reply

pytestmark = pytest.mark.filterwarnings("ignore:.*retry_after.*")  # PTB's RetryAfter formats its own message


class Script:
    """A call that fails with the given exceptions in turn, then returns "ok"; counts its calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors, self.calls = list(errors), 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def recorder() -> tuple[list[float], Callable[[float], Awaitable[None]]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return slept, sleep


def test_outbox_policy_backs_off_exponentially_then_gives_up() -> None:
    waits = [OUTBOX_RETRY.delay(attempt, Transient("500")) for attempt in range(1, 9)]
    assert waits == [2, 4, 8, 16, 32, 64, 128, None]  # 8 tries in all
    assert OUTBOX_RETRY.delay(3, ConnectionError("reset")) == 8  # anything unforeseen counts as transient
    assert RetryPolicy(attempts=20, base=2, cap=600).delay(15, Transient("x")) == 600  # capped


def test_outbox_policy_always_waits_out_telegrams_pause() -> None:
    assert OUTBOX_RETRY.delay(1, RetryLater(3)) == 3
    assert OUTBOX_RETRY.delay(50, RetryLater(3600)) == 3600  # however long and however often: never dropped
    assert OUTBOX_RETRY.delay(1, Blocked("blocked")) is None
    assert OUTBOX_RETRY.delay(1, Rejected("too long")) is None


def test_reply_policy_is_the_reply_paths_old_behaviour() -> None:
    assert [REPLY_RETRY.delay(a, Transient("TimedOut")) for a in (1, 2, 3)] == [0.5, 1.0, None]
    assert REPLY_RETRY.delay(1, RetryLater(10)) == 10  # a short flood wait is waited out
    assert REPLY_RETRY.delay(1, RetryLater(11)) is None  # a long one is not: the citizen would be waiting
    assert REPLY_RETRY.delay(3, RetryLater(1)) is None  # three tries at most, whatever failed
    assert REPLY_RETRY.delay(1, Blocked("x")) is None and REPLY_RETRY.delay(1, Rejected("x")) is None


def test_a_policy_is_checked_and_frozen() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0, base=1, cap=1)
    with pytest.raises(ValueError):
        RetryPolicy(attempts=3, base=2, cap=1)
    with pytest.raises(AttributeError):
        REPLY_RETRY.attempts = 5  # type: ignore[misc]


async def test_retrying_gives_up_after_n_tries_with_the_last_error() -> None:
    last = Transient("third")
    call = Script(Transient("first"), Transient("second"), last)
    slept, sleep = recorder()
    with pytest.raises(Transient) as raised:
        await retrying(call, REPLY_RETRY, sleep=sleep)
    assert raised.value is last and call.calls == 3 and slept == [0.5, 1.0]


async def test_retrying_waits_out_a_short_retry_later() -> None:
    call = Script(RetryLater(2), Transient("reset"))
    slept, sleep = recorder()
    assert await retrying(call, REPLY_RETRY, sleep=sleep) == "ok"
    assert call.calls == 3 and slept == [2, 1.0]  # the network error after it is the second failure


async def test_retrying_refuses_a_long_retry_later_and_a_refusal() -> None:
    for error in (RetryLater(30), Rejected("message is too long"), Blocked("bot was blocked")):
        call = Script(error)
        slept, sleep = recorder()
        with pytest.raises(SendError) as raised:
            await retrying(call, REPLY_RETRY, sleep=sleep)
        assert raised.value is error and call.calls == 1 and slept == []


async def test_retrying_raises_a_bug_at_once() -> None:
    call = Script(KeyError("text"))
    slept, sleep = recorder()
    with pytest.raises(KeyError):
        await retrying(call, OUTBOX_RETRY, sleep=sleep)
    assert call.calls == 1 and slept == []


def test_errors_are_still_importable_from_the_dispatcher() -> None:
    assert (dispatcher.RetryLater, dispatcher.Blocked, dispatcher.Rejected, dispatcher.Transient) == (
        RetryLater,
        Blocked,
        Rejected,
        Transient,
    )


# --- the Telegram channel (handlers/sender.py) ---------------------------------------------------------------


def test_core_error_maps_every_ptb_error() -> None:
    later = core_error(RetryAfter(7))
    assert isinstance(later, RetryLater) and later.seconds == 7
    later = core_error(RetryAfter(dt.timedelta(seconds=2.5)))
    assert isinstance(later, RetryLater) and later.seconds == 2.5
    assert isinstance(core_error(Forbidden("Forbidden: bot was blocked by the user")), Blocked)
    assert isinstance(core_error(ChatMigrated(-1001)), Blocked)
    assert isinstance(core_error(BadRequest("Bad Request: chat not found")), Blocked)
    refused = core_error(BadRequest("Bad Request: message is too long"))
    assert isinstance(refused, Rejected) and str(refused) == "Message is too long"  # PTB capitalises, drops prefix
    assert isinstance(core_error(TimedOut()), Transient) and str(core_error(TimedOut())) == "TimedOut"
    assert isinstance(core_error(NetworkError("Bad Gateway")), Transient)
    assert isinstance(core_error(InvalidToken()), Transient)


class FakeBot:
    """Stands in for LeanBot.send_html: raises the scripted PTB errors in turn, then records the message."""

    def __init__(self, *errors: Exception) -> None:
        self.errors, self.sent, self.tries = list(errors), [], 0

    async def send_html(self, chat_id: int, text: str, rows: object = None) -> None:
        self.tries += 1
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append((chat_id, text))


FAST = RetryPolicy(attempts=3, base=0.0, cap=0.0, max_wait=10)  # REPLY_RETRY's decisions, without the waits


async def test_send_reply_retries_network_errors_and_short_flood_waits() -> None:
    bot = FakeBot(NetworkError("Bad Gateway"), RetryAfter(0))
    await send_reply(bot, 5, "xin chào", policy=FAST)  # type: ignore[arg-type]
    assert bot.sent == [(5, "xin chào")] and bot.tries == 3


async def test_send_reply_gives_up_with_ptbs_own_error() -> None:
    last = TimedOut()
    bot = FakeBot(NetworkError("Bad Gateway"), TimedOut(), last)
    with pytest.raises(TimedOut) as raised:
        await send_reply(bot, 5, "xin chào", policy=FAST)  # type: ignore[arg-type]
    assert raised.value is last and bot.tries == 3 and not bot.sent
    for error in (Forbidden("Forbidden: bot was blocked by the user"), RetryAfter(60), BadRequest("Bad Request: x")):
        bot = FakeBot(error)
        with pytest.raises(type(error)) as raised:
            await send_reply(bot, 5, "xin chào")  # type: ignore[arg-type]
        assert raised.value is error and bot.tries == 1
