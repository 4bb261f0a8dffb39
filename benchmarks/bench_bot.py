"""Bot throughput: citizen questions through the real bot and through an echo bot, against the same Bot API server.

Processes:
- this process: the fake Bot API server of tests/telegram_api.py (long-polling getUpdates, sendMessage, ...) on
  127.0.0.1 and the load generator (simulated citizens, using the server's user-side API, no HTTP);
- the bot under test, in its own process: `python -m cli.main run` (PTB long polling, run_polling defaults) with
  TELEGRAM_API_URL pointing to the fake server and a fresh SQLite database (`db upgrade` first) in a temp dir;
- the echo bot, run the same way in its own process: a minimal PTB Application with one MessageHandler that
  sends the text back (`bench_bot.py --serve-echo`).
The bots are run one after the other, never at the same time, against the same server.

Questions: the `q` column of tests/data/questions.tsv (all splits: procedures, typos, no diacritics, out of
scope), cycled to --questions. The real bot's flood control (FLOOD_LIMIT, default 20 a minute per chat) would
throttle a citizen sending 40 questions in a few seconds, so the benchmark sets FLOOD_LIMIT=1000000.

Phases, for each bot: warm-up (a few questions from separate chats, not measured), then
- closed loop: --citizens citizens, each sends its next question when the reply to the previous one arrives;
- burst (open loop): all questions queued at once, round-robin over the citizens (skip with --no-burst).
Latency: from the citizen's send to the bot's sendMessage request arriving at the server. Throughput: answered
questions / (last reply - first send). CPU: user+system time of the bot process (all threads, /proc/<pid>/stat)
over the phase, per question; the same for this process (server + load generator).

The machine may be shared: before each phase the script waits (--quiet-wait) until other processes use less than
--max-other-load cores, measures again (--retries) a phase during which they did, and reports their load beside
every figure ("other load"). Every wait has a timeout; everything listens on 127.0.0.1 only.

Run: .venv/bin/python benchmarks/bench_bot.py [--questions 2000] [--citizens 50] [--rounds 3] [--no-burst]
     [--profile py-spy --py-spy-bin PATH | --profile cprofile] [--json FILE]
--profile adds a run of the real bot (closed loop) under a profiler, not reported as a result, and prints where
its time goes: py-spy (attached to the bot process; by default only the thread holding the GIL, i.e. CPU) or
cProfile (inside the bot process; slower, exact call counts). Results are in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import contextvars
import json
import os
import platform
import pstats
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKEN = "123:ABC"
CLK_TCK = os.sysconf("SC_CLK_TCK")
READY_TIMEOUT = 90.0  # seconds for a bot process to start polling
STOP_TIMEOUT = 20.0  # seconds for a bot process to stop after SIGINT
WARMUP = 20  # questions from separate chats before measuring


# --- the echo bot (runs in its own process) ---------------------------------------------------------------


def serve_echo() -> None:
    """A minimal PTB bot: one MessageHandler that sends the same text back; polling with run_polling defaults."""
    from telegram import Update
    from telegram.ext import Application, ContextTypes, MessageHandler, filters

    base = os.environ["TELEGRAM_API_URL"].rstrip("/")
    app = (
        Application.builder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(f"{base}/bot")
        .base_file_url(f"{base}/file/bot")
        .build()
    )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text)  # type: ignore[union-attr]

    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.run_polling(allowed_updates=[Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY])


# --- the server, instrumented -----------------------------------------------------------------------------

_ARRIVAL: contextvars.ContextVar[float] = contextvars.ContextVar("arrival", default=0.0)


def make_server(delay: float = 0.0):  # type: ignore[no-untyped-def]
    from tests.telegram_api import FakeTelegram

    class BenchServer(FakeTelegram):
        """The tests' fake server; every sendMessage is matched to the oldest unanswered question of its chat."""

        def __init__(self, delay: float = 0.0) -> None:
            super().__init__(TOKEN)
            self.delay = delay  # seconds before each sendMessage is answered: Telegram's round trip
            self.waiting: dict[int, collections.deque[asyncio.Future[float]]] = {}  # chat -> unanswered questions
            self.extra = 0  # bot messages that answer no question (late replies after a timeout, second parts)

        async def _handle(self, request):  # type: ignore[no-untyped-def]
            _ARRIVAL.set(time.perf_counter())  # before the body is read: when the request reached the server
            return await super()._handle(request)

        async def _m_sendmessage(self, p: dict[str, Any]) -> dict[str, Any]:
            arrived = _ARRIVAL.get() or time.perf_counter()
            msg = await super()._m_sendmessage(p)
            queue = self.waiting.get(msg["chat"]["id"])
            if queue:
                fut = queue.popleft()
                if not fut.done():
                    fut.set_result(arrived)
            else:
                self.extra += 1
            if self.delay:
                await asyncio.sleep(self.delay)  # the citizen already has the message; the bot waits for the answer
            return msg

        def expect(self, chat_id: int) -> asyncio.Future[float]:
            fut: asyncio.Future[float] = asyncio.get_running_loop().create_future()
            self.waiting.setdefault(chat_id, collections.deque()).append(fut)
            return fut

        def forget(self, chat_id: int, fut: asyncio.Future[float]) -> None:
            with contextlib.suppress(ValueError):
                self.waiting.get(chat_id, collections.deque()).remove(fut)

        def polls_since(self, n: int) -> int:
            return len([c for c in self.calls[n:] if c.method.lower() == "getupdates"])

        def replies_since(self, n: int) -> dict[str, int]:
            """What the replies were, so a fast run of error messages cannot pass for a fast bot."""
            kinds: collections.Counter[str] = collections.Counter()
            for c in self.calls[n:]:
                if c.method.lower() == "sendmessage":
                    kinds[reply_kind(str(c.params.get("text", "")), bool(c.params.get("reply_markup")))] += 1
            return dict(kinds)

    return BenchServer(delay)


# --- bot processes ----------------------------------------------------------------------------------------


def tree(pid: int) -> list[int]:
    """The process and its descendants (`tthc-bot run --workers N` starts N worker processes)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    children[int(fh.read().rsplit(")", 1)[1].split()[1])].append(int(entry))
            except OSError:
                continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants, all threads (fields 14 and 15 of /proc/<pid>/stat)."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


def rss_mb(pid: int) -> float:
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmRSS:")), 0)
        except OSError:
            continue
    return total / 1024


def machine_busy() -> float:
    """CPU seconds all cores have spent busy since boot (/proc/stat), to see what else ran during a phase."""
    with open("/proc/stat") as fh:
        v = [int(x) for x in fh.readline().split()[1:]]
    return (
        v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)
    ) / CLK_TCK  # user nice system irq softirq steal


async def wait_quiet(pid: int, max_wait: float, threshold: float = 0.25) -> float:
    """Wait (at most max_wait s) until processes other than the bot and this one use < threshold cores; return it."""
    deadline = time.monotonic() + max_wait
    while True:
        m0, b0, s0, t0 = machine_busy(), cpu_seconds(pid), self_cpu(), time.monotonic()
        await asyncio.sleep(1.0)
        other = (machine_busy() - m0 - (cpu_seconds(pid) - b0) - (self_cpu() - s0)) / (time.monotonic() - t0)
        if other < threshold or time.monotonic() >= deadline:
            return max(0.0, other)


def self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


@dataclass
class BotProcess:
    name: str
    proc: subprocess.Popen[bytes]
    workdir: Path
    log: Path

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # PTB's run_polling stops cleanly on SIGINT
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


def workers_of(name: str) -> int:
    """`bot` is tthc-bot in one process; `bot-2w` is `tthc-bot run --workers 2` (a front and two workers)."""
    return int(name.removeprefix("bot-").removesuffix("w")) if name.startswith("bot-") else 1


def start_bot(name: str, url: str, workdir: Path, *, profile_to: Path | None = None) -> BotProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "DATABASE_", "BOT_"))}
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
            "PYTHONUNBUFFERED": "1",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": url,
            "DATA_DIR": str(workdir),
            "SECRET_KEY": "benchmark-secret-not-for-serving-0123456789",  # the bot refuses the development one
            "DATABASE_URL": f"sqlite:///{workdir / 'tthc.db'}",
            "FLOOD_LIMIT": "1000000",  # the benchmark's citizens send 40 questions each within seconds
            "BOT_WORKERS": str(workers_of(name)),
        }
    )
    if name == "echo":
        cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-echo"]
    else:
        # a fresh SQLite database, migrated as in production; cwd is the temp dir so no .env is read
        subprocess.run(
            [sys.executable, "-m", "cli.main", "db", "upgrade"],
            cwd=workdir,
            env=env,
            check=True,
            timeout=120,
            stdout=subprocess.DEVNULL,
        )
        cmd = [sys.executable, "-m", "cli.main", "run"]
        if profile_to:
            cmd = [sys.executable, "-m", "cProfile", "-o", str(profile_to), "-m", "cli.main", "run"]
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=out, stderr=subprocess.STDOUT)
    return BotProcess(name, proc, workdir, log)


async def wait_ready(server, bot: BotProcess, since: int) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + READY_TIMEOUT
    while server.polls_since(since) == 0:
        if bot.proc.poll() is not None:
            raise SystemExit(
                f"{bot.name} exited with {bot.proc.returncode}; see {bot.log}:\n{bot.log.read_text()[-2000:]}"
            )
        if time.monotonic() > deadline:
            raise SystemExit(f"{bot.name} did not start polling within {READY_TIMEOUT:.0f} s; see {bot.log}")
        await asyncio.sleep(0.05)


# --- load ---------------------------------------------------------------------------------------------------


@dataclass
class Result:
    bot: str
    mode: str
    questions: int
    answered: int
    lost: int
    seconds: float
    msgs_per_s: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    bot_cpu_ms_per_msg: float
    server_cpu_ms_per_msg: float
    bot_rss_mb: float
    polls_per_msg: float  # getUpdates calls per answered question
    other_load: float  # cores used by other processes on the machine during the phase
    replies: dict[str, int] = field(default_factory=dict)  # reply kinds (tthc-bot): answer card, choices, ...
    latencies_ms: list[float] = field(default_factory=list, repr=False)


def reply_kind(text: str, buttons: bool) -> str:
    from bot.replies import messages as m

    for kind, start in (
        ("error", m.ERROR.split("{")[0]),
        ("flood", m.FLOOD),
        ("database down", m.DB_DOWN[:40]),
        ("choices", m.NOT_SURE),
        ("out of scope", m.OUT_OF_SCOPE[:40]),
    ):
        if text.startswith(start):
            return kind
    return "answer card" if buttons and "<b>" in text else "other"


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def closed_loop(
    server,
    chats: list[int],
    per_chat: list[list[str]],
    timeout: float,  # type: ignore[no-untyped-def]
    deadline: float,
) -> tuple[list[float], int, float, float]:
    """Each citizen sends its next question when the previous one is answered (or timed out)."""
    lat: list[float] = []
    lost = 0
    first, last = [float("inf")], [0.0]

    async def citizen(chat: int, questions: list[str]) -> None:
        nonlocal lost
        for q in questions:
            left = deadline - time.monotonic()
            if left <= 0:
                lost += 1
                continue
            fut = server.expect(chat)
            sent = time.perf_counter()
            first[0] = min(first[0], sent)
            await server.send_text(chat, chat, q)
            try:
                arrived = await asyncio.wait_for(asyncio.shield(fut), min(timeout, left))
            except TimeoutError:
                server.forget(chat, fut)
                lost += 1
                continue
            last[0] = max(last[0], arrived)
            lat.append((arrived - sent) * 1000)

    await asyncio.gather(*(citizen(c, qs) for c, qs in zip(chats, per_chat, strict=False)))
    return lat, lost, first[0], last[0]


async def burst(
    server,
    chats: list[int],
    per_chat: list[list[str]],
    deadline: float,  # type: ignore[no-untyped-def]
) -> tuple[list[float], int, float, float]:
    """Every question queued at once, round-robin over the citizens; then wait for all the replies."""
    sent: list[tuple[int, float, asyncio.Future[float]]] = []
    for k in range(max(len(x) for x in per_chat)):
        for chat, qs in zip(chats, per_chat, strict=False):
            if k < len(qs):
                fut = server.expect(chat)
                sent.append((chat, time.perf_counter(), fut))
                await server.send_text(chat, chat, qs[k])
    futs = [f for _, _, f in sent]
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(
            asyncio.gather(*(asyncio.shield(f) for f in futs)), max(0.1, deadline - time.monotonic())
        )
    lat = [(f.result() - t) * 1000 for _, t, f in sent if f.done()]
    lost = sum(not f.done() for f in futs)
    for chat, _, f in sent:
        if not f.done():
            server.forget(chat, f)
            f.cancel()
    last = max((f.result() for f in futs if f.done() and not f.cancelled()), default=0.0)
    return lat, lost, sent[0][1], last


def split(questions: list[str], chats: list[int]) -> list[list[str]]:
    """Question i goes to citizen i mod n, so every citizen gets a mix of procedures, typos and off-topic ones."""
    return [questions[i :: len(chats)] for i in range(len(chats))]


async def phase(
    server,
    bot: BotProcess,
    name: str,
    mode: str,
    questions: list[str],
    chats: list[int],  # type: ignore[no-untyped-def]
    args: argparse.Namespace,
    profile_to: Path | None,
) -> Result:
    """One measured phase against a running bot (py-spy, when asked, is attached for its duration only)."""
    per_chat = split(questions, chats)
    if args.quiet_wait > 0:
        await wait_quiet(bot.proc.pid, args.quiet_wait, args.max_other_load)
    spy: subprocess.Popen[bytes] | None = None
    if profile_to and args.profile == "py-spy":
        spy = subprocess.Popen(
            [
                args.py_spy_bin,
                "record",
                "--pid",
                str(bot.proc.pid),
                "--format",
                "raw",
                "--rate",
                "250",
                "--threads",
                *args.py_spy_args.split(),
                "-o",
                str(profile_to),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await asyncio.sleep(1.0)  # let py-spy attach
    try:
        deadline = time.monotonic() + args.phase_timeout
        cpu0, self0, calls0 = cpu_seconds(bot.proc.pid), self_cpu(), len(server.calls)
        busy0, wall0 = machine_busy(), time.monotonic()
        if mode == "closed":
            lat, lost, first, last = await closed_loop(server, chats, per_chat, args.timeout, deadline)
        else:
            lat, lost, first, last = await burst(server, chats, per_chat, deadline)
        await asyncio.sleep(0.2)  # let the bot finish its last send before reading its CPU time
        cpu, own = cpu_seconds(bot.proc.pid) - cpu0, self_cpu() - self0
        other = max(0.0, (machine_busy() - busy0 - cpu - own) / (time.monotonic() - wall0))
    finally:
        if spy:
            spy.send_signal(signal.SIGINT)  # py-spy writes its output when interrupted
            try:
                spy.wait(30)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait(10)
    n = len(lat)
    secs = max(1e-9, last - first)
    return Result(
        name,
        mode,
        len(questions),
        n,
        lost,
        secs,
        n / secs if n else 0.0,
        pct(lat, 0.50),
        pct(lat, 0.99),
        max(lat, default=float("nan")),
        cpu / max(1, n) * 1000,
        own / max(1, n) * 1000,
        rss_mb(bot.proc.pid),
        server.polls_since(calls0) / max(1, n),
        other,
        server.replies_since(calls0),
        lat,
    )


async def measure_bot(
    server,
    name: str,
    questions: list[str],
    args: argparse.Namespace,
    base_chat: int,  # type: ignore[no-untyped-def]
    *,
    profile_to: Path | None = None,
) -> list[Result]:
    """Start the bot, warm it up, run the phases, stop it. With profile_to: one closed-loop phase under a profiler
    (cProfile inside the bot process, or py-spy attached to it), its output written to profile_to."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        since = len(server.calls)
        cprof = profile_to if profile_to and args.profile == "cprofile" else None
        bot = start_bot(name, server.url, Path(tmp), profile_to=cprof)
        try:
            await wait_ready(server, bot, since)
            warm = [base_chat + 90_000 + i for i in range(WARMUP)]
            await closed_loop(server, warm, [[q] for q in questions[:WARMUP]], args.timeout, time.monotonic() + 120)
            modes = ["closed"] + ([] if args.no_burst or profile_to else ["burst"])
            for i, mode in enumerate(modes):
                for attempt in range(args.retries + 1):
                    chats = [base_chat + 4000 * i + 1000 * attempt + c for c in range(args.citizens)]
                    r = await phase(server, bot, name, mode, questions, chats, args, profile_to)
                    busy = r.other_load > args.max_other_load and not profile_to  # py-spy itself counts as other
                    if busy and attempt < args.retries:
                        print(
                            f"  {name:5s} {mode:6s}: other processes used {r.other_load:.2f} cores; measuring again",
                            file=sys.stderr,
                            flush=True,
                        )
                        continue
                    results.append(r)
                    print(
                        f"  {name:5s} {mode:6s}: {r.answered}/{r.questions} answered in {r.seconds:.1f} s, "
                        f"{r.msgs_per_s:.0f} msg/s, p50 {r.p50_ms:.0f} ms, p99 {r.p99_ms:.0f} ms, "
                        f"bot CPU {r.bot_cpu_ms_per_msg:.2f} ms/msg, other load {r.other_load:.2f} cores"
                        f"{'; replies: ' + ', '.join(f'{k} {v}' for k, v in sorted(r.replies.items())) if name != 'echo' else ''}"  # noqa: E501  (one f-string expression)
                        f"{' (busy machine: kept anyway)' if busy else ''}",
                        file=sys.stderr,
                        flush=True,
                    )
                    break
        finally:
            before_stop = bot.log.read_text(errors="replace")  # PTB's shutdown may log a harmless read timeout
            rc = bot.stop()
            if rc not in (0, None) and rc != -signal.SIGINT:
                print(f"  {name} exited with {rc}; last log lines:\n{bot.log.read_text()[-1500:]}", file=sys.stderr)
            errors = [ln for ln in before_stop.splitlines() if '"level": "ERROR"' in ln or "Traceback" in ln]
            if errors:
                print(f"  {name}: {len(errors)} error line(s) in its log, first: {errors[0][:300]}", file=sys.stderr)
            if args.keep_logs:
                args.keep_logs.mkdir(parents=True, exist_ok=True)
                (args.keep_logs / f"{name}-{base_chat}{'-profile' if profile_to else ''}.log").write_bytes(
                    bot.log.read_bytes()
                )
    return results


# Where a sample goes: the first frame from the innermost outwards that belongs to one of these (path fragments).
CATEGORIES = [
    ("question understanding (knowledge/: matcher, text, lexicon)", ("knowledge/",)),
    (
        "reply building (bot/cards, messages, callbacks: HMAC button data)",
        ("bot/cards.py", "bot/messages.py", "bot/callbacks.py"),
    ),
    ("database (SQLAlchemy ORM, sqlmodel, aiosqlite, sqlite3)", ("sqlalchemy/", "sqlmodel/", "aiosqlite/", "sqlite3/")),
    ("bot core, other (bot/, handlers/)", ("bot/", "handlers/")),
    (
        "HTTP client (aiohttp; httpx, httpcore, h11, anyio in the echo bot)",
        ("aiohttp/", "httpx/", "httpcore/", "h11/", "anyio/"),
    ),
    ("PTB (update de_json, request building, dispatch)", ("telegram/",)),
    ("event loop, sockets (asyncio, selectors)", ("asyncio/", "selectors.py")),
]


# What a sample was doing for the bot, from the outermost matching call: (name, frame fragments), first match wins.
PATHS = [
    ("getUpdates (PTB + HTTP client, parsing the updates)", ("get_updates (telegram/_bot.py",)),
    (
        "sendMessage / editMessageText (PTB + HTTP client)",
        ("send_message (telegram/_bot.py", "LeanBot.send_html (", "LeanBot.edit_html ("),
    ),
    ("Matcher.understand", ("Matcher.understand (",)),
    ("database (SQLAlchemy, sqlmodel, aiosqlite)", ("sqlalchemy/", "sqlmodel/", "aiosqlite/")),
    (
        "reply building, to_event, split_text",
        ("bot/cards.py", "bot/callbacks.py", "to_event (handlers", "split_text (handlers", "keyboard (handlers"),
    ),
]


def path_of(stack: str) -> str:
    for name, parts in PATHS:
        if any(p in stack for p in parts):
            return name
    return "event loop, the rest"


def classify(frames: list[str]) -> str:
    for frame in reversed(frames):
        where = frame.rsplit("(", 1)[-1]
        for name, parts in CATEGORIES:
            if any(p in where for p in parts):
                return name
    return "other"


def print_pyspy(path: Path, top: int) -> None:
    """Summarise py-spy's raw (collapsed) stacks: share of samples by area and by innermost function."""
    by_area: collections.Counter[str] = collections.Counter()
    by_leaf: collections.Counter[str] = collections.Counter()
    by_thread: collections.Counter[str] = collections.Counter()
    by_path: collections.Counter[str] = collections.Counter()
    de_json = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        n = int(count)
        thread = frames[0].split(":", 1)[-1].strip() if frames[0].startswith("thread") else "?"
        frames = frames[1:] if frames[0].startswith("thread") else frames
        by_thread[thread] += n
        by_area[classify(frames)] += n
        by_path[path_of(stack)] += n
        de_json += n if "send_message (telegram/_bot.py" in stack and "Message.de_json" in stack else 0
        if frames:
            func, _, where = frames[-1].rpartition(" (")
            by_leaf[f"{func} ({where.rsplit(':', 1)[0]})"] += n
    total = sum(by_area.values()) or 1
    print(f"\n## py-spy of the bot process (closed loop): {total} samples at 250 Hz\n")
    print("| thread | share |\n|---|---|")
    for name, n in by_thread.most_common():
        print(f"| {name} | {n / total:.1%} |")
    print("\n| call path (outermost matching call) | share of samples |\n|---|---|")
    for name, n in by_path.most_common():
        print(f"| {name} | {n / total:.1%} |")
    print(f"\n(parsing the Message returned by sendMessage: {de_json / total:.1%})")
    print("\n| area (innermost matching frame) | share of samples |\n|---|---|")
    for name, n in by_area.most_common():
        print(f"| {name} | {n / total:.1%} |")
    print(f"\n| innermost function (top {top}) | share |\n|---|---|")
    for name, n in by_leaf.most_common(top):
        print(f"| `{name}` | {n / total:.1%} |")


def print_cprofile(path: Path, top: int) -> None:
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime")
    print(f"\n## cProfile of the bot process (its whole life, start-up included), top {top} by own time\n", flush=True)
    stats.print_stats(top)
    stats.sort_stats("cumulative")
    print(f"\n## top {top} by cumulative time\n", flush=True)
    stats.print_stats(top)


# --- main ---------------------------------------------------------------------------------------------------


def machine() -> str:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} cores ({model}), Python {platform.python_version()}"


async def run(args: argparse.Namespace) -> list[Result]:
    from telegram import __version__ as ptb_version

    from knowledge.evaluation import read_questions

    pool = [r.q for r in read_questions(ROOT / "tests" / "data" / "questions.tsv")]
    questions = [pool[i % len(pool)] for i in range(args.questions)]
    print(
        f"{machine()}, PTB {ptb_version}; {len(questions)} questions ({len(pool)} distinct) from "
        f"{args.citizens} citizens; sendMessage answered after {args.api_delay_ms:.0f} ms",
        file=sys.stderr,
        flush=True,
    )
    server = make_server(args.api_delay_ms / 1000)
    await server.start()
    results: list[Result] = []
    try:
        base = 10_000
        bots = [b for b in args.bots.split(",") if b]
        for k in range(args.rounds):
            for name in bots if k % 2 == 0 else bots[::-1]:  # alternate the order, so neither bot always goes first
                results += await measure_bot(server, name, questions, args, base)
                base += 100_000
        if args.profile:
            prof = Path(tempfile.mkdtemp(prefix="bench-prof-")) / (
                "bot.prof" if args.profile == "cprofile" else "bot.txt"
            )
            print(f"  profiling the bot with {args.profile} -> {prof}", file=sys.stderr, flush=True)
            await measure_bot(server, "bot", questions, args, base, profile_to=prof)
            if not prof.exists():
                print(f"  no profile written to {prof}", file=sys.stderr)
            elif args.profile == "cprofile":
                print_cprofile(prof, args.profile_top)
            else:
                print_pyspy(prof, args.profile_top)
    finally:
        await server.stop()
    if server.extra:
        print(f"  {server.extra} bot message(s) answered no pending question", file=sys.stderr)
    return results


def report(results: list[Result]) -> None:
    print(f"\n{machine()}\n")
    print(
        "| bot | mode | answered | msg/s | p50 | p99 | max | bot CPU / msg | server+load CPU / msg "
        "| getUpdates / msg | bot RSS | other load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.bot} | {r.mode} | {r.answered:,}/{r.questions:,} | {r.msgs_per_s:.0f} | {r.p50_ms:.0f} ms "
            f"| {r.p99_ms:.0f} ms | {r.max_ms:.0f} ms | {r.bot_cpu_ms_per_msg:.2f} ms "
            f"| {r.server_cpu_ms_per_msg:.2f} ms | {r.polls_per_msg:.2f} | {r.bot_rss_mb:.0f} MB | {r.other_load:.2f} |"
        )
    print()
    for mode in ("closed", "burst"):
        echo = [r for r in results if r.bot == "echo" and r.mode == mode]
        for name in sorted({r.bot for r in results} - {"echo"}):
            bot = [r for r in results if r.bot == name and r.mode == mode]
            if not (echo and bot):
                continue
            med = lambda rs, f: statistics.median(getattr(r, f) for r in rs)  # noqa: E731
            ratio = med(bot, "msgs_per_s") / med(echo, "msgs_per_s")
            print(
                f"{mode}, median of {len(bot)} run(s): echo {med(echo, 'msgs_per_s'):.0f} msg/s, p99 "
                f"{med(echo, 'p99_ms'):.0f} ms, {med(echo, 'bot_cpu_ms_per_msg'):.2f} ms CPU/msg; {name} "
                f"{med(bot, 'msgs_per_s'):.0f} msg/s, p99 {med(bot, 'p99_ms'):.0f} ms, "
                f"{med(bot, 'bot_cpu_ms_per_msg'):.2f} ms CPU/msg; {name}/echo throughput {ratio:.0%} "
                f"(target >= 60%), p99 {'<' if med(bot, 'p99_ms') < 1000 else '>='} 1 s"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--questions", type=int, default=2000)
    ap.add_argument("--citizens", type=int, default=50)
    ap.add_argument(
        "--bots",
        default="echo,bot,bot-2w",
        help="comma-separated, run in this order: echo; bot "
        "(tthc-bot, one process); bot-Nw (`tthc-bot run --workers N`)",
    )
    ap.add_argument("--rounds", type=int, default=3, help="repeat the whole set of bots (order alternates)")
    ap.add_argument("--no-burst", action="store_true", help="closed loop only")
    ap.add_argument(
        "--api-delay-ms",
        type=float,
        default=0.0,
        help="the server answers each sendMessage this much "
        "later (a round trip to Telegram, about 100 ms from Viet Nam); the reply counts as arrived before",
    )
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds a citizen waits for one reply")
    ap.add_argument("--phase-timeout", type=float, default=300.0, help="seconds one phase may take")
    ap.add_argument(
        "--quiet-wait",
        type=float,
        default=120.0,
        help="before each phase, wait up to this many seconds "
        "for other processes to use < --max-other-load cores (the machine may be shared); 0: do not wait",
    )
    ap.add_argument(
        "--max-other-load",
        type=float,
        default=0.25,
        help="a phase during which other processes used more cores than this is measured again (see --retries)",
    )
    ap.add_argument("--retries", type=int, default=2, help="how many times a phase on a busy machine is measured again")
    ap.add_argument(
        "--profile",
        choices=["cprofile", "py-spy"],
        help="also run the bot (closed loop) under a profiler "
        "and print where its time goes; these figures are not reported as results",
    )
    ap.add_argument("--py-spy-bin", default=shutil.which("py-spy") or "py-spy", help="the py-spy executable")
    ap.add_argument(
        "--py-spy-args",
        default="--gil",
        help="extra py-spy record options; the default --gil samples "
        "only the thread running Python code (CPU), --idle would add waiting threads (wall time)",
    )
    ap.add_argument("--profile-top", type=int, default=30)
    ap.add_argument("--keep-logs", type=Path, help="copy the bots' logs to this folder")
    ap.add_argument("--json", type=Path, help="write the results (with every latency) to this file")
    ap.add_argument("--serve-echo", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve_echo:
        serve_echo()
        return
    if args.profile == "py-spy" and not shutil.which(args.py_spy_bin):
        raise SystemExit(
            f"py-spy not found ({args.py_spy_bin}); install it (pip install py-spy, or pip install --target DIR "
            "py-spy to keep it out of the venv) and pass --py-spy-bin DIR/bin/py-spy, or use --profile cprofile"
        )
    results = asyncio.run(run(args))
    report(results)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": [asdict(r) for r in results]}, indent=1))


if __name__ == "__main__":
    main()
