"""Unit tests of the adapter's pure parts: splitting long HTML replies and turning updates into events."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from telegram import Update

from handlers.telegram import LIMIT, split_text, to_event
from tests.telegram_api import FakeTelegram, parse_html, utf16_len


def visible(text: str) -> str:
    """The text a citizen reads, without any whitespace (cuts may drop the whitespace they cut at)."""
    return re.sub(r"\s+", "", parse_html(text)[0])


def check_parts(text: str, parts: list[str], limit: int) -> None:
    assert parts, "no parts"
    for part in parts:
        assert utf16_len(part) <= limit, (len(part), part[:80])
        assert parse_html(part)[0].strip(), "an empty part"  # also: every part is valid Telegram HTML
    assert "".join(visible(p) for p in parts) == visible(text)


def test_short_text_is_one_part() -> None:
    assert split_text("xin chào") == ["xin chào"]
    assert split_text("a" * LIMIT) == ["a" * LIMIT]


def test_cuts_at_line_breaks_and_keeps_order() -> None:
    lines = [f"{i}. Giấy tờ số {i} " + "x" * 50 for i in range(200)]
    text = "\n".join(lines)
    parts = split_text(text)
    check_parts(text, parts, LIMIT)
    assert len(parts) >= 3 and all(not p.startswith("\n") for p in parts)
    assert all(p.split("\n")[-1] in lines for p in parts)  # every part ends with a whole line
    assert parts[0].startswith("0. ") and parts[-1].endswith(lines[-1])


def test_line_of_exactly_the_limit_makes_no_empty_part() -> None:
    text = "a" * 10 + "\n" + "b" * 100 + "\n" + "c" * 10
    parts = split_text(text, limit=100)
    check_parts(text, parts, 100)
    assert parts == ["a" * 10, "b" * 100, "c" * 10]


def test_a_short_line_then_a_very_long_one_stay_in_order() -> None:
    text = "đầu\n" + "x" * 250 + "\ncuối"
    parts = split_text(text, limit=100)
    check_parts(text, parts, 100)
    assert parts[0] == "đầu" and parts[-1].endswith("cuối")


def test_words_are_not_cut_when_a_space_is_near() -> None:
    text = " ".join(["thủ tục"] * 100)
    parts = split_text(text, limit=120)
    check_parts(text, parts, 120)
    assert all(p.startswith("thủ tục") and p.endswith(("thủ", "tục")) for p in parts)


def test_tags_are_closed_and_reopened_across_a_cut() -> None:
    text = (
        "<b>Hồ sơ</b>\n<i>"
        + "ghi chú dài " * 30
        + "</i>\n"
        + '<a href="https://x.vn/?a=1&amp;b=2">'
        + "liên kết " * 20
        + "</a>"
    )
    parts = split_text(text, limit=100)
    check_parts(text, parts, 100)
    assert parts[1].startswith("<i>") and parts[1].endswith("</i>")
    assert any(p.startswith('<a href="https://x.vn/?a=1&amp;b=2">') and p.endswith("</a>") for p in parts[2:])


def test_entities_and_emoji_are_never_cut() -> None:
    text = "&amp;📄" * 400  # 1 visible char + 2 UTF-16 units each, no break anywhere
    parts = split_text(text, limit=101)
    check_parts(text, parts, 101)
    assert all(re.fullmatch(r"(&amp;|📄)+", p) for p in parts)


_piece = st.one_of(
    st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyAĐ 0123456789.,:;📄☑\n", min_size=1, max_size=80).map(
        lambda s: s.replace("&", "&amp;")
    ),
    st.sampled_from(["\n", "\n\n", " ", "&amp;", "&lt;", "&#8212;"]),
    st.text(alphabet="abc đ", min_size=1, max_size=60).map(lambda s: f"<b>{s}</b>"),
    st.text(alphabet="abc đ\n", min_size=1, max_size=60).map(lambda s: f"<i>{s}</i>"),
    st.text(alphabet="abc đ", min_size=1, max_size=30).map(lambda s: f'<a href="https://a.vn/x?y=1&amp;z=2">{s}</a>'),
    st.text(alphabet="abc đ", min_size=1, max_size=40).map(lambda s: f"<b>đậm <i>{s}</i> hết</b>"),
)


@hsettings(max_examples=150, deadline=None)
@given(pieces=st.lists(_piece, min_size=1, max_size=60), limit=st.integers(min_value=60, max_value=400))
def test_any_valid_html_splits_into_valid_parts(pieces: list[str], limit: int) -> None:
    text = "".join(pieces)
    if not parse_html(text)[0].strip():
        return
    check_parts(text, split_text(text, limit=limit), limit)


# --- updates -> events -------------------------------------------------------------------------


@pytest.fixture
def fake() -> FakeTelegram:
    return FakeTelegram()  # not started: its user side only builds updates here


def ev(update: dict, username: str = "tthc_bot"):  # type: ignore[no-untyped-def]
    return to_event(Update.de_json(update, None), username)


async def test_private_text_commands_and_buttons(fake: FakeTelegram) -> None:
    text = ev(await fake.send_text(5, 5, "lam cccd"))
    assert (text.kind, text.text, text.chat_id, text.user_id, text.is_group) == ("text", "lam cccd", 5, 5, False)
    cmd = ev(await fake.send_command(5, 5, "tracuu", "000.00.15.H57-261114-0001"))
    assert (cmd.kind, cmd.command, cmd.args) == ("command", "tracuu", "000.00.15.H57-261114-0001")
    newline = ev(await fake.send_text(5, 5, "/tracuu\n000.00.15.H57-261114-0001"))
    assert (newline.command, newline.args) == ("tracuu", "000.00.15.H57-261114-0001")
    mine = ev(await fake.send_command(-9, 5, "help", chat_type="group", mention=True))
    assert (mine.kind, mine.command, mine.is_group) == ("command", "help", True)
    assert ev(await fake.send_command(-9, 5, "help", chat_type="group", mention="OtherBot")) is None
    assert ev(await fake.send_text(5, 5, "/ khong phai lenh")).kind == "text"
    fake.chats[5] = fake.chat(5, 5)
    fake.messages[5][1] = {"message_id": 1, "from": fake.bot_user, "chat": fake.chats[5], "date": 1, "text": "x"}
    fake.bot_message_ids[5] = [1]
    press = ev(await fake.press_button(5, 5, 1, "f:abc:fee|tag"))
    assert (press.kind, press.callback, press.user_id) == ("callback", "f:abc:fee|tag", 5)


async def test_what_the_bot_stays_silent_about(fake: FakeTelegram) -> None:
    assert ev(await fake.send_text(-9, 5, "lam cccd", chat_type="group")) is None
    assert ev(await fake.send_text(-10, 5, "lam cccd", chat_type="supergroup")) is None
    assert ev(await fake.send_sticker(-9, 5, chat_type="group")) is None
    channel = await fake.send_update(
        {
            "channel_post": {
                "message_id": 1,
                "date": 1,
                "text": "/start",
                "chat": {"id": -100300, "type": "channel", "title": "Kênh"},
            }
        }
    )
    assert ev(channel) is None
    from_bot = await fake.send_update(
        {
            "message": {
                "message_id": 2,
                "date": 1,
                "text": "/start",
                "from": {"id": 55, "is_bot": True, "first_name": "B"},
                "chat": {"id": 55, "type": "private", "first_name": "B"},
            }
        }
    )
    assert ev(from_bot) is None
    group_msg = await fake.send_text(-9, 5, "cau hoi", chat_type="group")
    assert ev(await fake.edit_text(-9, 5, group_msg["message"]["message_id"], "cau hoi sua")) is None


async def test_unsupported_and_edited_in_private(fake: FakeTelegram) -> None:
    assert ev(await fake.send_sticker(5, 5)).kind == "unsupported"
    assert ev(await fake.send_photo(5, 5, caption="lam cccd")).kind == "unsupported"
    assert ev(await fake.send_forwarded(5, 5, "/start")).kind == "unsupported"
    question = await fake.send_text(5, 5, "lam cccd")
    edited = ev(await fake.edit_text(5, 5, question["message"]["message_id"], "lam cccd can gi"))
    assert (edited.kind, edited.text) == ("text", "lam cccd can gi")
    command = await fake.send_command(5, 5, "help")
    assert ev(await fake.edit_text(5, 5, command["message"]["message_id"], "/start")) is None
