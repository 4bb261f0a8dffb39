"""Staff commands in the chat (/thongke, /khoangtrong), for the user ids in STAFF_USER_IDS only."""

from __future__ import annotations

import html

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.cases.rules import STATUSES
from bot.conversation.context import Context
from bot.insights import gaps, stats
from bot.notify import outbox
from bot.replies import messages as m
from bot.replies.events import Event, Reply


def allowed(ctx: Context, ev: Event) -> bool:
    """To anyone else these commands do not exist: they get the unknown-command line. Only in a private chat: in a
    group the figures would be read by every member."""
    return not ev.is_group and ev.user_id in ctx.settings.staff_user_ids


async def on_stats(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    """All cases by status (the same count as the staff API's, over all time), and the outbox by state."""
    by_status = (await stats.case_counts(session, None, None))["by_status"]
    cases = "\n".join(f"• {STATUSES.get(st, st)}: {n}" for st, n in by_status.items() if n) or "• (chưa có)"
    box = ", ".join(f"{k}: {v}" for k, v in sorted((await outbox.counts(session)).items())) or "0"
    return [Reply(m.STAFF_STATS.format(cases=cases, outbox=html.escape(box)))]


async def on_gaps(ctx: Context, session: AsyncSession, ev: Event) -> list[Reply]:
    """The questions most often left unanswered: what the knowledge base should cover next."""
    await ctx.gaps.flush()  # what this process has not written yet counts too
    rows = await gaps.top_gaps(session, limit=15)
    if not rows:
        return [Reply(m.STAFF_NO_GAPS)]
    return [Reply(m.STAFF_GAPS.format(rows="\n".join(f"{g.count}× {html.escape(g.text)}" for g in rows)))]
