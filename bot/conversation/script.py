"""Scripted conversations: a dialogue's turns played against the conversation core, one JSON-ready record per turn.

Shared by `tthc-bot converse` and the tests. A turn is a message (a string) or a press (`{"press": label}`: the
button of the most recent reply whose label contains `label`, compared without case or diacritics). Each record says
what the conversation decided for the turn (from `Conversation.respond`, not a second run of the matcher) and what
the citizen reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.conversation.core import Conversation
from bot.conversation.turn import Turn
from bot.replies.cards import to_plain
from bot.replies.events import Button, Event, Reply
from knowledge.text import fold

Step = str | dict[str, Any]


def text_of(replies: Sequence[Reply]) -> str:
    """All the messages of a turn as the citizen reads them (toasts included), without HTML."""
    parts = [f"({r.toast})" if r.toast and not r.text else to_plain(r.text) for r in replies if r.text or r.toast]
    return "\n\n".join(parts)


def labels(replies: Sequence[Reply]) -> list[str]:
    """The labels of the last reply's buttons."""
    return [b.text for row in replies[-1].buttons for b in row] if replies else []


def find_button(history: Sequence[Sequence[Reply]], label: str) -> Button | None:
    """The button of the most recent reply (latest turn first) whose label contains `label`."""
    want = fold(label).strip()
    for replies in reversed(history):
        for reply in reversed(replies):
            for row in reply.buttons:
                for b in row:
                    if b.data and want in fold(b.text):
                        return b
    return None


def record(dialogue: str, i: int, turn: Turn, replies: Sequence[Reply]) -> dict[str, Any]:
    return {
        "id": dialogue,
        "turn": i,
        "intent": turn.intent,
        "procedure": turn.procedure,
        "code": turn.code,
        "facet": turn.facet,
        "confident": turn.confident,
        "text": text_of(replies),
        "buttons": labels(replies),
    }


async def play(conv: Conversation, chat_id: int, dialogue: str, steps: Sequence[Step]) -> list[dict[str, Any]]:
    """Run one dialogue in the chat `chat_id` (a fresh one per dialogue); one record per step."""
    out: list[dict[str, Any]] = []
    history: list[list[Reply]] = []
    for i, step in enumerate(steps):
        if isinstance(step, dict) and "press" in step:
            button = find_button(history, str(step["press"]))
            if button is None:
                out.append(record(dialogue, i, Turn("no_button"), []))
                continue
            answered = await conv.respond(Event(chat_id, "callback", callback=button.data))
        else:
            text = str(step)
            if text.startswith("/"):
                cmd, _, args = text[1:].partition(" ")
                ev = Event(chat_id, "command", text=text, command=cmd, args=args.strip())
            else:
                ev = Event(chat_id, "text", text=text)
            answered = await conv.respond(ev)
        history.append(list(answered.replies))
        out.append(record(dialogue, i, answered.turn, answered.replies))
    return out
