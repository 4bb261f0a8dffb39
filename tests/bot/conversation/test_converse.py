"""`tthc-bot converse --json --batch FILE`: scripted dialogues, one JSON object per turn on stdout and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import cli

KEYS = {"id", "turn", "intent", "procedure", "code", "facet", "confident", "text", "buttons"}


def test_converse_plays_each_dialogue_in_a_fresh_chat(tmp_path: Path) -> None:
    batch = tmp_path / "dialogues.jsonl"
    dialogues = [
        {
            "id": "thread",
            "turns": ["lam giay khai sinh cho con can gi", "con le phi thi sao", "thứ 6 nộp thì khi nào lấy"],
        },
        {"id": "press", "turns": ["dang ky xe may", {"press": "LAN DAU"}, "nop o dau", {"press": "khong co nut nay"}]},
        {"id": "fresh", "turns": ["le phi bao nhieu"]},
    ]
    batch.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in dialogues) + "\n", encoding="utf-8")
    res = cli("converse", "--json", "--batch", str(batch), "--now", "2026-12-02T09:00", env={"LOG_LEVEL": "WARNING"})
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [(r["id"], r["turn"]) for r in rows] == [
        ("thread", 0),
        ("thread", 1),
        ("thread", 2),
        ("press", 0),
        ("press", 1),
        ("press", 2),
        ("press", 3),
        ("fresh", 0),
    ]
    assert all(set(r) == KEYS for r in rows)
    born = rows[0]
    assert (born["intent"], born["procedure"], born["code"], born["facet"]) == (
        "procedure",
        "ho-tich.dang-ky-khai-sinh",
        "1.001193",
        "documents",
    )
    assert born["text"].startswith("📄 Đăng ký khai sinh") and "<b>" not in born["text"] and born["buttons"]
    assert (rows[1]["procedure"], rows[1]["facet"]) == ("ho-tich.dang-ky-khai-sinh", "fee")
    assert rows[2]["facet"] == "time" and "04/12/2026" in rows[2]["text"]
    assert not rows[3]["confident"] and any("lần đầu" in b for b in rows[3]["buttons"])
    assert (rows[4]["procedure"], rows[4]["confident"]) == ("dang-ky-xe.lan-dau", True)  # the press, matched folded
    assert (rows[5]["procedure"], rows[5]["facet"]) == ("dang-ky-xe.lan-dau", "where")
    assert rows[6]["intent"] == "no_button" and rows[6]["text"] == ""
    assert rows[7]["procedure"] is None and not (rows[7]["intent"] == "procedure" and rows[7]["confident"])  # no thread


def test_converse_names_a_bad_line(tmp_path: Path) -> None:
    batch = tmp_path / "bad.jsonl"
    batch.write_text('{"id": "x", "turns": ["xin chào"]}\nnot json\n', encoding="utf-8")
    res = cli("converse", "--json", "--batch", str(batch))
    assert res.returncode != 0 and "bad.jsonl:2" in res.stderr and not res.stdout
