"""Cluster mode's throughput and failover (docs/benchmarks.md, "Cluster mode").

For 1, 2 and 3 instances (processes on 127.0.0.1 behind haproxy, a fresh PostgreSQL database each, webhook mode,
the fake Bot API server in this process; tests/cluster/harness.py): a burst of CHATS x PER_CHAT questions, each
chat's questions one after another (the next once the webhook answered the previous one, as Telegram sends them),
the chats at once. Throughput: answered questions over the time from the first send to the last answer. Latency:
from a question's webhook call to the bot's sendMessage reaching the server. Then, with 3 instances, the same burst
with one instance killed (`kill -9`) half-way: the time to the next answer from a survivor, the time to the first
answer in a chat the killed instance held (its claim must expire: CLUSTER_LEASE_SECONDS, 10 here), and duplicates.

    .venv/bin/python benchmarks/bench_cluster.py [--chats 100] [--per-chat 10] [--instances 1,2,3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.cluster.harness import Cluster, burst  # noqa: E402 — after the path set-up


async def phase(instances: int, chats: int, per_chat: int, kill: bool) -> dict:  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory() as d:
        async with Cluster(Path(d), instances=instances) as cluster:
            report = await burst(
                cluster, chats=chats, per_chat=per_chat, kill_at=0.5 if kill else None, redeliver=kill, reminders=0
            )
            await cluster.stop_all()
    keep = ["instances", "messages", "throughput_msg_s", "p50_s", "p99_s", "duplicates", "order_violations"]
    keep += ["kill_to_first_answer_s", "kill_to_first_answer_in_its_chats_s", "killed_instance_held_chats"]
    return {k: report[k] for k in keep if k in report} | {"unanswered": len(report["unanswered"]), "kill": kill}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=100)
    parser.add_argument("--per-chat", type=int, default=10)
    parser.add_argument("--instances", default="1,2,3")
    args = parser.parse_args()
    for n in [int(x) for x in args.instances.split(",")]:
        print(json.dumps(asyncio.run(phase(n, args.chats, args.per_chat, kill=False))), flush=True)
    print(json.dumps(asyncio.run(phase(3, args.chats, args.per_chat, kill=True))), flush=True)


if __name__ == "__main__":
    main()
