"""`make test-cluster`: three bot instances in cluster mode, as processes on 127.0.0.1 behind haproxy, on a fresh
PostgreSQL database, in webhook mode against the fake Bot API server (tests/telegram_api.py).

A burst of 3,000 messages from 300 chats (each chat's messages one after another, as Telegram sends them: the next
once the webhook answered the previous one; the chats at once), `kill -9` of one instance half-way, every update
delivered a second time afterwards (Telegram retrying), reminders queued in the outbox before and due after the
kill. Then: every message answered exactly once, each chat's answers in the order of its messages, every reminder
sent once, nothing left in the inbox or the outbox; the survivors drain and exit on SIGTERM.

Skipped unless TTHC_CLUSTER_TEST=1 (the Makefile's target sets it); needs haproxy (the target installs it).
`python tests/cluster/test_cluster.py` runs it alone and prints the figures as JSON (benchmarks/bench_cluster.py
uses the same harness).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.cluster.harness import Cluster, burst  # noqa: E402 — after the path set-up for running it as a script

UPDATE_CONCURRENCY = 8  # chats an instance answers at once (the default): at most that many replies in flight

pytestmark = pytest.mark.skipif(
    os.environ.get("TTHC_CLUSTER_TEST") != "1", reason="the cluster test runs with `make test-cluster`"
)


async def scenario(tmp: Path) -> dict:  # type: ignore[type-arg]
    async with Cluster(tmp, instances=3) as cluster:
        report = await burst(cluster, chats=300, per_chat=10, kill_at=0.5, redeliver=True, reminders=40)
        report["drain_exit_codes"] = await cluster.stop_all()
    return report


def test_three_instances_answer_once_in_order_through_a_kill(tmp_path: Path) -> None:
    if not shutil.which("haproxy"):
        pytest.fail("haproxy is not installed; `make test-cluster` installs it")
    report = asyncio.run(asyncio.wait_for(scenario(tmp_path), 540))
    print(json.dumps(report, indent=1))
    assert report["unanswered"] == [], report
    # a reply can be sent twice only if the killed instance had it in flight (sent, not yet recorded as sent):
    # Telegram has no idempotent send, so its new holder sends it again rather than risk losing it
    assert report["duplicates_outside_its_chats"] == 0 and report["duplicates"] <= UPDATE_CONCURRENCY, report
    assert report["order_violations"] == 0 and report["handled_out_of_order"] == 0, report
    assert report["reminders_sent"] == report["reminders"] and report["reminder_duplicates"] == 0, report
    assert report["inbox_open"] == 0 and report["outbox_open"] == 0, report
    assert report["drain_exit_codes"] == [0, 0], report


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        print(json.dumps(asyncio.run(scenario(Path(d))), indent=1))
