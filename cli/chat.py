"""The terminal chat: the same conversation core as Telegram, buttons shown as numbered choices."""

from __future__ import annotations

import sys
from typing import TextIO

from bot.conversation.core import Conversation
from bot.replies.cards import to_plain
from bot.replies.events import Button, Event, Reply

TERMINAL_CHAT_ID = 1


def parse_line(line: str, buttons: list[Button], chat_id: int = TERMINAL_CHAT_ID) -> Event:
    """'/start abc' -> command, '2' with buttons shown -> press button 2, anything else -> text."""
    text = line.strip()
    if text.startswith("/"):
        cmd, _, args = text[1:].partition(" ")
        return Event(chat_id, "command", text=text, command=cmd.split("@")[0], args=args.strip())
    if text.isdigit() and 1 <= int(text) <= len(buttons) and buttons[int(text) - 1].data:
        return Event(chat_id, "callback", callback=buttons[int(text) - 1].data)
    return Event(chat_id, "text", text=text)


def render(replies: list[Reply], out: TextIO) -> list[Button]:
    shown: list[Button] = []
    for reply in replies:
        if reply.toast:
            out.write(f"({reply.toast})\n")
        if reply.text:
            out.write(to_plain(reply.text) + "\n")
        for row in reply.buttons:
            for button in row:
                if button.url:
                    out.write(f"    {button.text}: {button.url}\n")
                else:
                    shown.append(button)
                    out.write(f"  [{len(shown)}] {to_plain(button.text)}\n")
    out.write("\n")
    out.flush()
    return shown


async def chat(conversation: Conversation, inp: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    buttons = render(await conversation.handle(Event(TERMINAL_CHAT_ID, "command", command="start")), out)
    while True:
        out.write("Bạn: ")
        out.flush()
        line = inp.readline()
        if not line or line.strip().lower() in {"/quit", "/exit", "thoát"}:
            out.write("\nDạ, em chào Anh/Chị!\n")
            return
        if not line.strip():
            continue
        buttons = render(await conversation.handle(parse_line(line, buttons)), out) or buttons
