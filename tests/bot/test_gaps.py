"""Knowledge-base gaps: what `ask` and the bot could not answer, counted, without personal data."""

from __future__ import annotations

import json

from bot.insights.gaps import redact
from tests.helpers import cli


def test_ask_batch_records_gaps_and_kb_gaps_lists_them(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"DATA_DIR": str(tmp_path)}
    assert cli("db", "upgrade", env=env).returncode == 0
    batch = tmp_path / "q.txt"
    batch.write_text(
        "lam cccd can j\nthời tiết hôm nay thế nào\nthoi tiet hom nay the nao\ngọi cho tôi số 0912345678 về giá vàng\n",
        encoding="utf-8",
    )
    res = cli("ask", "--json", "--batch", str(batch), env=env)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["query"] for r in rows] == batch.read_text(encoding="utf-8").splitlines()
    assert rows[0]["intent"] == "procedure" and rows[0]["matches"][0]["id"].startswith("can-cuoc")
    assert {r["intent"] for r in rows[1:]} == {"out_of_scope"}
    assert all(set(r) >= {"query", "intent", "facet", "confident", "matches"} for r in rows)
    gaps = cli("kb", "gaps", "--limit", "5", env=env)
    assert gaps.returncode == 0, gaps.stderr
    lines = gaps.stdout.splitlines()
    assert "0912345678" not in gaps.stdout and "<số>" in gaps.stdout
    assert any("thời tiết hôm nay thế nào" in line for line in lines)
    since = cli("kb", "gaps", "--since", "01/01/2099", env=env)
    assert "no unanswered questions" in since.stdout
    bad = cli("kb", "gaps", "--since", "31/02/2026", env=env)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr


def test_redact_removes_contacts_and_codes() -> None:
    text = redact("Hồ sơ 000.00.15.H57-251120-0001 của tôi, sđt 0912 345 678, mail a.b@x.vn")
    assert "H57" not in text and "0912" not in text and "a.b@x.vn" not in text


async def test_the_bot_gap_log_writes_in_the_background_and_keeps_rows_while_the_database_is_down(  # type: ignore[no-untyped-def]
    settings, matcher, engine
) -> None:
    import asyncio

    from bot.insights.gaps import GapLog, top_gaps
    from bot.storage.db import make_engine, session_scope

    log = GapLog(engine, interval=0.05)
    log.add(matcher.understand("thời tiết hôm nay thế nào"), source="bot")
    log.add(matcher.understand("lam cccd can gi"), source="bot")  # answered: not a gap
    await asyncio.sleep(0.5)  # no flush() call: the timer writes it
    async with session_scope(engine) as s:
        assert [(g.text, g.count) for g in await top_gaps(s)] == [("thời tiết hôm nay thế nào", 1)]

    down = make_engine(settings, url="postgresql+psycopg://postgres@127.0.0.1:1/none")
    offline = GapLog(down, interval=60, limit=2)
    for q in ("giá vàng hôm nay", "xem bói", "đặt vé máy bay"):
        offline.add(matcher.understand(q), source="bot")
    await offline.flush()  # fails: the rows stay, the newest `limit` of them
    assert [r["text"] for r in offline._rows] == ["xem bói", "đặt vé máy bay"]
    offline.engine = engine  # the database is back
    await offline.flush()
    async with session_scope(engine) as s:
        assert {g.text for g in await top_gaps(s)} == {"thời tiết hôm nay thế nào", "xem bói", "đặt vé máy bay"}
    await down.dispose()
