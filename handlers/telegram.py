"""Telegram adapter: PTB updates -> core events, core replies -> Bot API calls. Nothing else.

The application around it (handlers, jobs) is built in `handlers/app.py`; `handlers/run.py` runs it.
"""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.constants import ChatType
from telegram.error import BadRequest

from bot.replies.events import Event, Reply
from handlers.sender import LeanBot, send_reply

log = logging.getLogger(__name__)
LIMIT = 4096


_ATOM = re.compile(r"<[^<>]+>|&#?\w+;|.", re.S)  # a tag, an HTML entity, or one character
_TAG_NAME = re.compile(r"<(/?)([a-zA-Z][\w-]*)")
_TAGS = re.compile(r"<[^<>]+>")


def _units(s: str) -> int:
    """Length as Telegram counts it (UTF-16 code units), so emoji count double."""
    return len(s.encode("utf-16-le")) // 2


def _after(stack: list[tuple[str, str]], atom: str) -> list[tuple[str, str]]:
    m = _TAG_NAME.match(atom) if atom.startswith("<") else None
    if not m:
        return stack
    closing, name = m.group(1), m.group(2).lower()
    if not closing:
        return [*stack, (name, atom)]
    for k in range(len(stack) - 1, -1, -1):
        if stack[k][0] == name:
            return stack[:k] + stack[k + 1 :]
    return stack


def _closers(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def split_text(text: str, limit: int = LIMIT) -> list[str]:
    """Split Telegram HTML into messages of at most `limit` units, in order, none empty.

    Cuts at a line break when it can, else at a space, else anywhere; never inside a tag or an
    entity; tags open at a cut are closed at the end of one part and reopened at the next.
    """
    if _units(text) <= limit:
        return [text]
    atoms = _ATOM.findall(text)
    parts: list[str] = []
    stack: list[tuple[str, str]] = []
    i = 0
    while i < len(atoms):
        while i < len(atoms) and atoms[i] in ("\n", " "):
            i += 1  # a part does not start with the break it was cut at
        if i == len(atoms):
            break
        head = "".join(tag for _, tag in stack)
        size, cur, j = _units(head), stack, i
        cuts: dict[str, tuple[int, list[tuple[str, str]], int]] = {}
        while j < len(atoms):
            nxt = _after(cur, atoms[j])
            if size + _units(atoms[j]) + _units(_closers(nxt)) > limit and j > i:
                break
            size, cur, j = size + _units(atoms[j]), nxt, j + 1
            if atoms[j - 1] in ("\n", " "):
                cuts[atoms[j - 1]] = (j, cur, size)
        if j < len(atoms):  # prefer a line break in the second half, then a space, then any line break
            line, space = cuts.get("\n"), cuts.get(" ")
            cut = line if line and (line[2] >= limit // 2 or not space) else space
            if cut:
                j, cur = cut[0], cut[1]
        body = "".join(atoms[i:j]).rstrip()
        if _TAGS.sub("", body).strip():
            parts.append(head + body + _closers(cur))
        stack, i = cur, j
    return parts or [text[:limit]]


def to_event(update: Update, bot_username: str | None = None) -> Event | None:
    """The core event for an update, or None when the bot should stay silent.

    Silent for: channels, other bots, commands addressed to another bot (/start@other_bot), and
    in groups for anything but commands and button presses. An edited text in a private chat is
    answered as a new question (the citizen corrected a typo); other edits are ignored, because
    the original message was already answered. Stickers, photos, forwarded messages and the like
    in a private chat become "unsupported" (one polite line).
    """
    chat, user = update.effective_chat, update.effective_user
    if chat is None or chat.type == ChatType.CHANNEL or (user is not None and user.is_bot):
        return None
    group = chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
    uid = user.id if user else None
    if update.callback_query:
        return Event(chat.id, "callback", callback=update.callback_query.data or "", user_id=uid, is_group=group)
    msg = update.effective_message
    if msg is None:
        return None
    text = msg.text or ""
    if update.edited_message or update.edited_channel_post or update.edited_business_message:
        if group or not text or text.startswith("/") or msg.forward_origin:
            return None
        return Event(chat.id, "text", text=text, user_id=uid, is_group=group)
    if not text or msg.forward_origin:
        return None if group else Event(chat.id, "unsupported", user_id=uid, is_group=group)
    if text.startswith("/") and text[1:2].strip():
        head, *rest = text[1:].split(maxsplit=1)
        cmd, _, addressee = head.partition("@")
        if addressee and bot_username and addressee.lower() != bot_username.lower():
            return None
        return Event(
            chat.id,
            "command",
            text=text,
            command=cmd,
            args=rest[0].strip() if rest else "",
            user_id=uid,
            is_group=group,
        )
    if group:
        return None
    return Event(chat.id, "text", text=text, user_id=uid, is_group=group)


async def send_replies(update: Update, bot: LeanBot, replies: list[Reply]) -> None:
    """Answer the button press (with the reply's toast), then send or edit each reply, split to Telegram's limit."""
    query = update.callback_query
    toast = next((r.toast for r in replies if r.toast), None)
    if query:
        try:
            await query.answer(toast)
        except BadRequest as exc:  # too old or already answered: the reply itself still matters
            log.info("could not answer a button press: %s", exc)
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    for reply in replies:
        if not reply.text:
            continue
        if reply.edit and query and query.message and _units(reply.text) <= LIMIT:
            try:
                await bot.edit_html(chat_id, query.message.message_id, reply.text, reply.buttons)
                continue
            except BadRequest as exc:
                if "not modified" in str(exc).lower():
                    continue
        chunks = split_text(reply.text)
        for i, chunk in enumerate(chunks):
            buttons = reply.buttons if i == len(chunks) - 1 else None  # the keyboard goes under the last part
            await send_reply(bot, chat_id, chunk, buttons)
