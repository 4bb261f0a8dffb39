"""The bot on several cores: one front process and N worker processes (`tthc-bot run --workers N`).

The front receives updates exactly as the single-process bot does (PTB's long polling or webhook: Telegram
allows one receiver per bot), runs what must run once (command list, notification dispatcher, retention) and
hands each update to worker `chat id mod N` over a local socket. A chat's updates therefore always reach the
same worker, in order, so its in-memory chat-state cache and flood counter stay right; different chats are
answered on every core. Workers send their replies to Telegram themselves.

A worker that dies is started again by the front (its chats' next updates go to the new one; updates it had
taken but not answered are lost, as they would be if the single-process bot crashed). When the front stops,
it closes the sockets; each worker answers what it already has, then exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
from dataclasses import dataclass

from telegram import Update
from telegram.ext import TypeHandler

from bot.privacy.logs import setup_logging
from bot.services import Services
from handlers.app import (
    App,
    Context,
    answer_updates,
    freeze_startup_objects,
    new_application,
    schedule_jobs,
    use_uvloop,
)

log = logging.getLogger(__name__)
_FRAME = struct.Struct("!I")  # each update: its length, then its JSON
STOP_TIMEOUT = 30.0  # seconds a worker gets to answer what it has after the front stops


def route(update: Update, workers: int) -> int:
    """The worker for an update: by chat (or, for a button on an inline message, by user)."""
    key = (
        update.effective_chat.id
        if update.effective_chat
        else (update.effective_user.id if update.effective_user else 0)
    )
    return key % workers


@dataclass
class _Worker:
    index: int
    proc: subprocess.Popen[bytes]
    writer: asyncio.StreamWriter


class Front:
    """Starts the workers, keeps them running, and forwards updates to them."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.workers: list[_Worker | None] = [None] * count
        self._retired: list[subprocess.Popen[bytes]] = []
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        for i in range(self.count):
            await self._spawn(i)

    async def _spawn(self, i: int) -> _Worker:
        mine, theirs = socket.socketpair()
        with theirs:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "worker", "--fd", str(theirs.fileno())], pass_fds=[theirs.fileno()]
            )
        _, writer = await asyncio.open_unix_connection(sock=mine)
        worker = _Worker(i, proc, writer)
        self.workers[i] = worker
        log.info("worker %d started (pid %d)", i, proc.pid)
        return worker

    async def forward(self, update: object, context: Context) -> None:
        if not isinstance(update, Update):
            return
        data = json.dumps(update.to_dict(), separators=(",", ":")).encode()
        i = route(update, self.count)
        for _ in range(2):  # once more with a fresh worker if this one is gone
            worker = self.workers[i]
            try:
                if worker is None or worker.proc.poll() is not None:
                    raise ConnectionError("worker not running")
                worker.writer.write(_FRAME.pack(len(data)) + data)
                await worker.writer.drain()
                return
            except (ConnectionError, OSError) as exc:
                log.warning("worker %d unavailable (%s); starting it again", i, type(exc).__name__)
                await self._replace(i, worker)
        log.error("update %d could not be handed to a worker", update.update_id)

    async def watch(self, context: Context) -> None:
        """A scheduled check: a worker that exited is started again before its chats write."""
        self._retired = [p for p in self._retired if p.poll() is None]  # reap the ones that have finished
        for i, worker in enumerate(self.workers):
            if worker is not None and worker.proc.poll() is not None:
                log.warning("worker %d exited with %s; starting it again", i, worker.proc.returncode)
                await self._replace(i, worker)

    async def _replace(self, i: int, worker: _Worker | None) -> None:
        async with self._lock:
            if self.workers[i] is not worker:  # another update already replaced it
                return
            if worker is not None:
                await self._retire(worker)
                self._retired.append(worker.proc)
            await self._spawn(i)

    async def _retire(self, worker: _Worker) -> None:
        worker.writer.close()
        with contextlib.suppress(TimeoutError, OSError):
            await asyncio.wait_for(worker.writer.wait_closed(), 5)

    async def stop(self) -> None:
        """Close every socket (end of input for the workers), then wait for them to finish."""
        running = [w for w in self.workers if w is not None]
        for worker in running:
            await self._retire(worker)
        for worker in running:
            try:
                await asyncio.to_thread(worker.proc.wait, STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                log.error("worker %d did not stop within %.0f s; killing it", worker.index, STOP_TIMEOUT)
                worker.proc.kill()
                await asyncio.to_thread(worker.proc.wait)


def build_front(services: Services, count: int) -> App:
    """The receiving process: PTB's updater and the scheduled jobs, and a handler that forwards every update.

    The services were built by the composition root, so a broken knowledge base has already stopped the bot here,
    not in a worker restart loop."""
    app = new_application(services.settings)
    schedule_jobs(app, services)
    front = Front(count)
    jobs_init = app.post_init

    async def post_init(application: App) -> None:
        await front.start()
        if jobs_init:
            await jobs_init(application)
        if application.job_queue is not None:
            application.job_queue.run_repeating(front.watch, interval=5, first=5, name="workers")

    async def post_stop(application: App) -> None:
        await front.stop()

    async def post_shutdown(application: App) -> None:
        await services.close()

    app.add_handler(TypeHandler(Update, front.forward))
    app.post_init, app.post_stop, app.post_shutdown = post_init, post_stop, post_shutdown
    return app


def run_worker(services: Services, fd: int) -> None:
    """A worker process: answers the updates read from its socket until the front closes it."""
    settings = services.settings
    setup_logging(settings.log_level)
    # Ctrl-C in a terminal reaches the whole process group: the front decides when a worker stops
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    use_uvloop()
    app = new_application(settings, receives=False)
    conversation = answer_updates(app, services)
    freeze_startup_objects()

    async def main() -> None:
        await app.initialize()
        await app.start()
        reader, _ = await asyncio.open_unix_connection(sock=socket.socket(fileno=fd))
        try:
            while True:
                size = _FRAME.unpack(await reader.readexactly(_FRAME.size))[0]
                payload = json.loads(await reader.readexactly(size))
                await app.update_queue.put(Update.de_json(payload, app.bot))
        except asyncio.IncompleteReadError:
            pass  # the front closed the socket
        finally:
            await app.stop()  # answers what is already queued
            await app.shutdown()
            await conversation.close()
            await services.close()

    asyncio.run(main())
    log.info("worker %d stopped", os.getpid())
