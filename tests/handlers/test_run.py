"""`tthc-bot run` as an operator starts it, as real processes against the fake Bot API server: start-up problems
give one line; `--workers 2` (a front and two workers) on the test database, receiving by long polling and by
webhook: chats are answered by both workers, a chat's flow keeps its state, a killed worker is replaced, and
Ctrl-C stops everything cleanly."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.staff import demo
from bot.storage.db import session_scope
from handlers.workers import route
from tests.handlers.conftest import TOKEN, WEBHOOK_SECRET
from tests.helpers import cli
from tests.telegram_api import FakeTelegram, free_port

ROOT = Path(__file__).resolve().parents[2]
WAIT = 60.0  # seconds: three processes load the knowledge base on a busy 2-core machine


async def _until(what, timeout: float = WAIT):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not (found := what()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return found


def _pids(log: Path) -> dict[int, int]:
    """Worker index -> pid, the latest start of each, from the front's log."""
    out: dict[int, int] = {}
    for line in log.read_text(errors="replace").splitlines():
        m = re.search(r"worker (\d+) started \(pid (\d+)\)", line)
        if m:
            out[int(m.group(1))] = int(m.group(2))
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie has exited
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize("receive", ["polling", "webhook"])
async def test_two_workers_answer_in_order_survive_a_crash_and_stop_cleanly(
    receive, settings, kb, engine, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        [case] = await demo.seed(
            session=s, kb=kb, secret=settings.secret_key.get_secret_value(), count=1, today=dt.date(2026, 11, 25)
        )
    async with FakeTelegram(TOKEN) as server:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "BOT_"))},
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": server.url,
            "DATABASE_URL": settings.database_url,
            "DATA_DIR": str(tmp_path),
            "SECRET_KEY": settings.secret_key.get_secret_value(),
            "PYTHONPATH": str(ROOT),
        }
        command = [sys.executable, "-m", "cli.main", "run", "--workers", "2"]
        ready = "getupdates"
        if receive == "webhook":
            port = free_port()
            env.update(
                {
                    "WEBHOOK_URL": f"http://127.0.0.1:{port}",
                    "WEBHOOK_LISTEN": "127.0.0.1",
                    "WEBHOOK_PORT": str(port),
                    "WEBHOOK_SECRET": WEBHOOK_SECRET,
                }
            )
            command.append("--webhook")
            ready = "setwebhook"
        log = tmp_path / "bot.log"
        with log.open("wb") as out:
            front = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            await _until(lambda: len(_pids(log)) == 2 and any(c.method.lower() == ready for c in server.calls))
            workers = _pids(log)

            async def ask(chat: int, text: str, command: str | None = None) -> str:
                seen = len(server.bot_messages(chat))
                if command:
                    await server.send_command(chat, chat, command, text)
                else:
                    await server.send_text(chat, chat, text)
                return (await _until(lambda: server.bot_messages(chat)[seen:]))[-1]["text"]

            # chats 6001 and 6002 go to different workers; both are answered
            chats = [6001, 6002]
            assert {c % 2 for c in chats} == {0, 1}
            for chat in chats:
                assert "căn cước" in (await ask(chat, "lam cccd can gi")).lower()
            # a flow over three messages keeps its state in the chat's worker
            assert "4 số cuối" in await ask(6001, case.code, command="tracuu")
            assert case.code in await ask(6001, case.phone_last4)

            # the worker of chat 6001 crashes; the front starts another, and the chat is answered again
            os.kill(workers[6001 % 2], signal.SIGKILL)
            await _until(lambda: _pids(log).get(6001 % 2) not in (None, workers[6001 % 2]))
            assert "hộ chiếu" in (await ask(6001, "lam ho chieu can gi")).lower()
            assert "căn cước" in (await ask(6002, "le phi lam cccd")).lower()  # the other worker carried on

            front.send_signal(signal.SIGINT)  # Ctrl-C
            assert front.wait(WAIT) == 0
            every = [*workers.values(), *_pids(log).values()]
            await _until(lambda: not any(_alive(p) for p in every), 10)
        finally:
            if front.poll() is None:
                front.kill()
                front.wait(10)
        text = log.read_text(errors="replace")
        errors = [json.loads(line) for line in text.splitlines() if line.startswith("{") and '"ERROR"' in line]
        # the front's own shutdown may log PTB's "get_updates one more time" timeout; nothing else
        assert not [e for e in errors if "get_updates" not in e.get("msg", "")], errors


def test_route_keeps_a_chat_in_one_worker() -> None:
    from telegram import Update

    def update(chat: int, uid: int) -> Update:
        return Update.de_json(
            {
                "update_id": uid,
                "message": {
                    "message_id": uid,
                    "date": 1764000000,
                    "text": "x",
                    "chat": {"id": chat, "type": "private"},
                    "from": {"id": chat, "is_bot": False, "first_name": "A"},
                },
            },
            None,
        )

    assert {route(update(42, n), 3) for n in range(1, 6)} == {0}
    assert {route(update(c, 1), 4) for c in range(100, 108)} == {0, 1, 2, 3}
    assert route(update(-100123, 1), 4) in range(4)  # groups have negative ids


async def test_start_up_problems_are_one_line_naming_the_setting(tmp_path) -> None:  # type: ignore[no-untyped-def]
    async with FakeTelegram(TOKEN) as server:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "BOT_"))}
        base.update({"DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT), "SECRET_KEY": "k" * 40})
        cases = {
            "TELEGRAM_BOT_TOKEN is not set": {},
            "TELEGRAM_BOT_TOKEN was refused": {"TELEGRAM_BOT_TOKEN": "999:WRONG", "TELEGRAM_API_URL": server.url},
            "cannot reach the Bot API": {
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_URL": f"http://127.0.0.1:{free_port()}",
            },
        }
        for expected, env in cases.items():
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "cli.main",
                "run",
                cwd=tmp_path,
                env={**base, **env},
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), WAIT)
            assert proc.returncode == 1, (expected, err.decode())
            lines = [ln for ln in err.decode().splitlines() if ln.startswith("error:")]
            assert len(lines) == 1 and expected in lines[0], (expected, err.decode()[-500:])
            assert not [ln for ln in err.decode().splitlines() if ln.startswith(("Traceback", "│", "╭"))]  # logs only
            assert "Unclosed" not in err.decode() + out.decode()


@pytest.mark.parametrize("command", ["run", "start", "worker --fd 0"])
def test_serving_citizens_with_the_development_secret_is_refused(command: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Anyone who reads the source knows the development secret: it would let them forge buttons and recover
    phone numbers. So the bot refuses to start with it, naming the setting, whether or not a token is set."""
    env = {"DATA_DIR": str(tmp_path), "TELEGRAM_BOT_TOKEN": TOKEN, "SECRET_KEY": ""}
    res = cli(*command.split(), env=env, cwd=tmp_path)
    assert res.returncode == 2, res.stdout + res.stderr
    assert res.stderr.startswith("error: SECRET_KEY is not set"), res.stderr
    assert "Traceback" not in res.stderr


def test_the_terminal_chat_still_runs_on_the_development_secret(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Trying the bot in a terminal serves nobody else: no secret needed."""
    res = cli("chat", env={"DATA_DIR": str(tmp_path), "SECRET_KEY": ""}, cwd=tmp_path, input_text="/quit\n")
    assert res.returncode == 0, res.stderr
