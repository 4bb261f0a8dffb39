"""Updates: concurrent across chats, in order within a chat, bounded, driven the way PTB's Application does
(one task per update, created in arrival order, each calling `process_update`)."""

from __future__ import annotations

import asyncio
import itertools

from telegram import Update

from handlers.ordering import PerChatUpdateProcessor

_ids = itertools.count(1)


def _update(chat: int) -> Update:
    uid = next(_ids)
    return Update.de_json(
        {
            "update_id": uid,
            "message": {
                "message_id": uid,
                "date": 1764000000,
                "text": "hi",
                "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "A"},
            },
        },
        None,
    )


async def _run(proc: PerChatUpdateProcessor, jobs: list[tuple[Update, object]]) -> None:
    await asyncio.wait_for(asyncio.gather(*(asyncio.create_task(proc.process_update(u, c)) for u, c in jobs)), 5)


async def test_one_chat_is_handled_in_arrival_order() -> None:
    proc, done = PerChatUpdateProcessor(8), []

    async def handle(n: int, delay: float) -> None:
        await asyncio.sleep(delay)
        done.append(n)

    # the first message is the slowest: without ordering the later ones would overtake it
    await _run(proc, [(_update(1), handle(n, 0.05 - n * 0.01)) for n in range(5)])
    assert done == [0, 1, 2, 3, 4]
    assert not proc._chats and not proc._waiting  # nothing kept for a chat with nothing pending


async def test_different_chats_are_handled_together() -> None:
    proc = PerChatUpdateProcessor(8)
    a_started, b_started = asyncio.Event(), asyncio.Event()

    async def a() -> None:
        a_started.set()
        await b_started.wait()  # finishes only if b runs while a is still running

    async def b() -> None:
        b_started.set()
        await a_started.wait()

    await _run(proc, [(_update(1), a()), (_update(2), b())])


async def test_at_most_the_configured_number_run_at_once() -> None:
    proc, running, peak = PerChatUpdateProcessor(3), [0], [0]

    async def handle() -> None:
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await asyncio.sleep(0.01)
        running[0] -= 1

    await _run(proc, [(_update(chat), handle()) for chat in range(10)])
    assert peak[0] == 3


async def test_a_busy_chat_does_not_hold_up_the_others() -> None:
    proc, order = PerChatUpdateProcessor(2), []
    release = asyncio.Event()

    async def slow(n: int) -> None:
        await release.wait()
        order.append(("busy", n))

    async def quick() -> None:
        order.append(("other", 0))
        release.set()

    # five updates of one chat queue behind its first; the other chat's update still gets a worker
    await _run(proc, [*((_update(1), slow(n)) for n in range(5)), (_update(2), quick())])
    assert order[0] == ("other", 0) and [n for who, n in order if who == "busy"] == [0, 1, 2, 3, 4]
