"""/xoadulieu: a chat erases what the bot keeps about it, after confirming."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.conversation.actions import Action
from bot.conversation.context import Context, stale
from bot.privacy.erasure import erase_chat
from bot.replies import messages as m
from bot.replies.events import Event, Reply


async def on_command(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    yes, no = ctx.btn(ev, m.ERASE_YES, Action.ERASE, "y"), ctx.btn(ev, m.ERASE_NO, Action.ERASE, "n")
    return [Reply(m.ERASE_CONFIRM, [[yes, no]])]


async def on_confirm(ctx: Context, session: AsyncSession, ev: Event, args: list[str]) -> list[Reply]:
    """Only "y" erases; any other answer keeps everything."""
    if not args:
        return stale()
    if args[0] != "y":
        return [Reply(m.ERASE_KEPT, edit=True)]
    done = await erase_chat(session, ev.chat_id)
    ctx.states.forget(ev.chat_id)  # the row is gone: the cached state must not outlive it
    text = m.ERASE_DONE.format(
        follows=done.follows,
        checklists=done.checklists,
        feedback=done.feedback_links,
        pending=done.pending_messages,
    )
    return [Reply(text, edit=True)]
