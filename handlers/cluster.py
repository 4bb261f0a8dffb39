"""Cluster mode (`CLUSTER=true tthc-bot run --webhook`): one of several instances behind a load balancer.

Instances share nothing but PostgreSQL (docs/deployment.md). The webhook endpoint (handlers/cluster_web.py) stores
each update in the inbox (bot/cluster/inbox.py) and answers 200 at once; every instance runs a consumer that claims
chats with unanswered updates under a lease and answers each chat's updates one at a time in `update_id` order:
handle (the conversation core, chat-state cache off), store the replies with the fenced `mark_handled`, send them,
mark them sent. The scheduled work (outbox dispatcher, retention purge, inbox purge) runs on the instance holding the
"scheduler" lease, and each due run of a job is recorded in its own transaction, so it runs once.

SIGTERM or SIGINT drains: readiness and the webhook answer 503 (the balancer sends the next updates elsewhere),
no new chat is claimed, each claimed chat finishes the update in hand, then every lease is given back.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import os
import signal
import socket
from typing import Any

from telegram import BotCommand, Update

from bot.cluster import inbox, lease
from bot.conversation.core import Conversation
from bot.conversation.flood import FloodGuard
from bot.notify.dispatcher import Dispatcher
from bot.notify.limits import RateLimiter
from bot.privacy import retention
from bot.replies.events import Button, Reply
from bot.services import Services
from bot.storage.db import DB_ERRORS, session_scope
from bot.storage.models import utcnow
from handlers.app import COMMANDS
from handlers.run import ALLOWED_UPDATES
from handlers.sender import LeanBot, TelegramSender, make_bot
from handlers.telegram import send_replies, to_event

log = logging.getLogger(__name__)
POLL = 0.05  # seconds an idle consumer waits before looking for updates another instance received
RETENTION_AT = dt.time(2, 30)  # local time, as the single-process bot's job
INBOX_KEEP = 86_400.0  # seconds an answered update is remembered (Telegram's retries of it are recognised)
SCHEDULER = "scheduler"


def encode(replies: list[Reply]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(r) for r in replies]


def decode(stored: list[Any]) -> list[Reply]:
    return [
        Reply(
            r["text"],
            [[Button(**b) for b in row] for row in r.get("buttons") or []],
            bool(r.get("edit")),
            r.get("toast"),
        )
        for r in stored
    ]


def chat_key(update: Update) -> int:
    """The chat an update belongs to (for a button on an inline message, the user), as handlers/workers.py routes."""
    if update.effective_chat:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user else 0


class Node:
    """One instance: the consumer of the inbox, the scheduler when it leads, and the drain."""

    def __init__(self, services: Services, *, bot: LeanBot | None = None, holder: str | None = None) -> None:
        settings = services.settings.model_copy(update={"chat_state_cache_seconds": 0.0})
        self.services = dataclasses.replace(services, settings=settings)
        self.settings, self.engine = settings, services.engine
        self.bot = bot or make_bot(
            settings.telegram_bot_token.get_secret_value() if settings.telegram_bot_token else "",
            settings.telegram_api_url,
        )
        self.holder = holder or settings.cluster_instance or f"{socket.gethostname()}:{os.getpid()}"
        self.lease = settings.cluster_lease_seconds
        self.slots = settings.update_concurrency
        self.conversation = Conversation(
            self.services,
            flood=FloodGuard(
                limit=settings.flood_limit, silence=settings.flood_silence, button_limit=settings.flood_button_limit
            ),
        )
        self.dispatcher = Dispatcher(
            self.engine,
            TelegramSender(self.bot),
            tz=settings.tz,
            batch=settings.dispatch_batch,
            limiter=RateLimiter() if settings.dispatch_rate_limit else None,
            lease=dt.timedelta(seconds=settings.dispatch_lease),
        )
        self.held: dict[int, asyncio.Task[None]] = {}
        self.wake = asyncio.Event()
        self.draining = False
        self.started = False
        self.leader = False
        self._loops: list[asyncio.Task[None]] = []

    # --- receiving --------------------------------------------------------------------------------------------

    async def receive(self, payload: dict[str, Any]) -> bool:
        """The webhook's work: store the update (False: a redelivery, nothing to do) and wake the consumer."""
        update = Update.de_json(payload, self.bot)
        async with session_scope(self.engine) as s:
            new = await inbox.store(s, update.update_id, chat_key(update), payload)
        if new:
            self.wake.set()
        return new

    # --- consuming --------------------------------------------------------------------------------------------

    async def consume(self) -> None:
        """Claim free chats while there are free slots; each claimed chat is served by its own task."""
        while not self.draining:
            self.wake.clear()
            free = self.slots - len(self.held)
            if free <= 0:
                await self.wake.wait()  # set when a chat task ends or an update arrives
                continue
            try:
                async with session_scope(self.engine) as s:
                    chats = await inbox.claim_chats(s, self.holder, limit=free, lease=self.lease)
            except DB_ERRORS as exc:
                log.warning("cluster: cannot claim chats (%s); will retry", type(exc).__name__)
                await asyncio.sleep(1)
                continue
            for chat in chats:
                self.held[chat] = asyncio.create_task(self.serve(chat), name=f"chat-{chat}")
            if not chats:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), POLL)

    async def serve(self, chat: int) -> None:
        """Answer the chat's updates in order until it has none (claim released) or this instance drains."""
        try:
            replied: int | None = None
            while True:
                async with session_scope(self.engine) as s:
                    if replied is not None:
                        await inbox.mark_replied(s, replied)
                    item = await inbox.next_update(s, chat)
                    if item is None and await inbox.release(s, chat, self.holder):
                        return
                    if item is not None and not await inbox.holds(s, chat, self.holder):
                        return  # the lease ran out and another instance took the chat
                replied = None
                if item is None:
                    continue  # an update came in while releasing: go on with it
                if self.draining:
                    return
                if await self.answer(chat, item):
                    replied = item.update_id
                else:
                    return
        except DB_ERRORS as exc:  # the claim expires and the chat is taken up again
            log.warning("cluster: chat left unfinished, database unavailable (%s)", type(exc).__name__)
        except Exception:
            log.exception("cluster: unexpected error serving a chat")
        finally:
            self.held.pop(chat, None)
            self.wake.set()

    async def answer(self, chat: int, item: inbox.Pending) -> bool:
        """Handle one update (unless a previous holder did) and send its replies; False when the chat was lost."""
        update = Update.de_json(item.payload, self.bot)
        event = to_event(update, self.bot.username)
        if item.handled:
            replies = decode(item.replies or [])
        else:
            replies = await self.conversation.handle(event) if event is not None else []
            async with session_scope(self.engine) as s:
                if not await inbox.mark_handled(
                    s, item.update_id, chat, self.holder, encode(replies), lease=self.lease
                ):
                    log.warning("cluster: chat lost before its update was recorded; its new holder answers")
                    return False
        try:
            if event is None and update.callback_query:  # stop the spinner of a button we do not handle
                await update.callback_query.answer()
            else:
                await send_replies(update, self.bot, replies)
        except Exception as exc:  # noqa: BLE001 — given up after send_reply's retries, as the single process does
            log.error("unhandled error while sending a reply: %s", type(exc).__name__)
        return True

    # --- leases and the scheduler -----------------------------------------------------------------------------

    async def heartbeat(self) -> None:
        """Renew the claims of the chats in hand every third of a lease, on its own: a slow scheduler round or a slow
        reply never lets a claim lapse while its chat is being answered."""
        while not self.draining:
            try:
                async with session_scope(self.engine) as s:
                    await inbox.renew(s, self.holder, list(self.held), lease=self.lease)
            except DB_ERRORS as exc:
                log.warning("cluster: cannot renew claims (%s); will retry", type(exc).__name__)
            await asyncio.sleep(self.lease / 3)

    async def schedule(self) -> None:
        """Lead (or try to) the scheduled work: the outbox dispatcher and the jobs due."""
        while not self.draining:
            try:
                async with session_scope(self.engine) as s:
                    leader = await lease.acquire(s, SCHEDULER, self.holder, lease=self.lease)
                if leader != self.leader:
                    log.info("cluster: %s %s the scheduler", self.holder, "now leads" if leader else "no longer leads")
                self.leader = leader
                if leader:
                    await self.dispatcher.tick()
                    await self.run_jobs()
            except DB_ERRORS as exc:
                self.leader = False
                log.warning("cluster: database unavailable (%s); will retry", type(exc).__name__)
            await asyncio.sleep(min(self.settings.dispatch_interval, self.lease / 3))

    async def run_jobs(self, now: dt.datetime | None = None) -> list[str]:
        """The jobs due since their last run, each at most once per due time across the cluster."""
        now = now or utcnow()
        st, ran = self.settings, []
        async with session_scope(self.engine) as s:
            if await lease.claim_run(
                s, "retention", lease.latest_daily(now, RETENTION_AT.replace(tzinfo=st.tz)), self.holder
            ):
                done = await retention.purge(
                    s,
                    chat_days=st.retention_chat_days,
                    gaps_days=st.retention_gaps_days,
                    closed_days=st.retention_closed_days,
                    outbox_days=st.retention_outbox_days,
                )
                log.info("retention purge: %s", done)
                ran.append("retention")
        async with session_scope(self.engine) as s:
            if await lease.claim_run(s, "inbox", lease.latest_every(now, dt.timedelta(hours=1)), self.holder):
                await inbox.purge(s, older_than_seconds=INBOX_KEEP)
                ran.append("inbox")
        return ran

    # --- life cycle -------------------------------------------------------------------------------------------

    async def start(self, *, webhook_url: str | None = None, secret: str | None = None) -> None:
        await self.bot.initialize()
        await self.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
        if webhook_url:  # every instance sets the same webhook: the balancer's address
            await self.bot.set_webhook(webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
        self._loops = [asyncio.create_task(loop()) for loop in (self.consume, self.heartbeat, self.schedule)]
        self.started = True
        log.info("cluster: instance %s started", self.holder)

    async def drain(self) -> None:
        """Stop taking updates, let each claimed chat finish its update in hand, give every lease back."""
        self.draining = True
        self.wake.set()
        log.info("cluster: draining %s (%d chats in hand)", self.holder, len(self.held))
        tasks = list(self.held.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.settings.cluster_drain_seconds)
            for task in late:
                task.cancel()
        for task in self._loops:
            task.cancel()
        await asyncio.gather(*self._loops, return_exceptions=True)
        with contextlib.suppress(*DB_ERRORS):
            async with session_scope(self.engine) as s:
                await inbox.release_all(s, self.holder)
                await lease.release(s, SCHEDULER, self.holder)

    async def close(self) -> None:
        await self.conversation.close()
        await self.bot.shutdown()
        await self.services.close()


def install_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
