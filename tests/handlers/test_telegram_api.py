"""The fake Bot API server itself: its answers and updates parse with PTB's own `de_json`, its errors
become the PTB exceptions Telegram's would, and long polling honours offset, limit and timeout."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageOriginUser, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tests.telegram_api import FakeTelegram, parse_html

TOKEN = "123:ABC"


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(TOKEN) as s:
        yield s


@pytest.fixture
async def ptb(server: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(
        TOKEN,
        base_url=f"{server.url}/bot",
        base_file_url=f"{server.url}/file/bot",
        request=HTTPXRequest(read_timeout=3),
        get_updates_request=HTTPXRequest(read_timeout=3),
    ) as b:
        yield b


async def test_get_me_and_send_message_parse_as_ptb_objects(server: FakeTelegram, ptb: Bot) -> None:
    assert ptb.username == "tthc_bot" and ptb.id == 123
    await server.send_text(42, 42, "xin chào")  # the chat exists once the citizen wrote
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("💰 Lệ phí", callback_data="f:abc:fee|tag")]])
    msg = await ptb.send_message(
        42, "📄 <b>Đăng ký</b> &amp; <i>tạm trú</i>", parse_mode=ParseMode.HTML, reply_markup=markup
    )
    assert isinstance(msg, Message) and msg.from_user and msg.from_user.id == 123 and msg.from_user.is_bot
    assert msg.chat.id == 42 and msg.chat.type == "private"
    assert abs((msg.date - dt.datetime.now(dt.UTC)).total_seconds()) < 5
    assert msg.text == "📄 Đăng ký & tạm trú"
    assert [(e.type, e.offset, e.length) for e in msg.entities] == [("bold", 3, 7), ("italic", 13, 7)]
    assert msg.reply_markup == markup
    [call] = server.calls_of("sendMessage")
    assert call.params["chat_id"] == 42 and call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "f:abc:fee|tag"
    assert server.bot_messages(42)[0]["message_id"] == msg.message_id


async def test_edits_return_the_edited_message_and_refuse_no_change(server: FakeTelegram, ptb: Bot) -> None:
    await server.send_text(42, 42, "hi")
    msg = await ptb.send_message(42, "☐ Tờ khai")
    edited = await ptb.edit_message_text("☑ Tờ khai", chat_id=42, message_id=msg.message_id)
    assert isinstance(edited, Message) and edited.text == "☑ Tờ khai" and edited.edit_date is not None
    assert edited.message_id == msg.message_id
    with pytest.raises(BadRequest, match="(?i)not modified"):
        await ptb.edit_message_text("☑ Tờ khai", chat_id=42, message_id=msg.message_id)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x")]])
    again = await ptb.edit_message_reply_markup(chat_id=42, message_id=msg.message_id, reply_markup=markup)
    assert isinstance(again, Message) and again.reply_markup == markup
    assert [v["text"] for v in server.edit_history(42, msg.message_id)] == ["☐ Tờ khai", "☑ Tờ khai"]
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await ptb.edit_message_text("x", chat_id=42, message_id=999_999)


async def test_telegram_like_refusals(server: FakeTelegram, ptb: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await ptb.send_message(5, "hello")
    await server.send_text(5, 5, "hi")
    for bad in ["a < b", "<b>unclosed", "<b>x</i>", "<p>x</p>"]:
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await ptb.send_message(5, bad, parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="(?i)message is too long"):
        await ptb.send_message(5, "a" * 4097)
    with pytest.raises(BadRequest, match="(?i)text is empty"):
        await ptb.send_message(5, "<b> </b>", parse_mode=ParseMode.HTML)
    long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await ptb.send_message(5, "ok", reply_markup=long_data)
    assert await ptb.send_message(5, "a" * 4096)  # exactly the limit is fine
    with pytest.raises(BadRequest, match="(?i)query id is invalid"):
        await ptb.answer_callback_query("424242")
    server.blocked.add(5)
    with pytest.raises(Forbidden, match="(?i)blocked"):
        await ptb.send_message(5, "still there?")


@pytest.mark.filterwarnings("ignore:.*retry_after.*")  # PTB's own message formatting reads the attribute
async def test_injected_faults_become_ptb_exceptions(server: FakeTelegram, ptb: Bot) -> None:
    await server.send_text(9, 9, "hi")
    server.fail_next("sendMessage", 429, retry_after=7)
    with pytest.raises(RetryAfter) as retry:
        await ptb.send_message(9, "x")
    assert "Retry in 7 seconds" in str(retry.value)
    server.fail_next("sendMessage", 403)
    with pytest.raises(Forbidden, match="(?i)bot was blocked by the user"):
        await ptb.send_message(9, "x")
    server.fail_next("sendMessage", 500)
    with pytest.raises(NetworkError):
        await ptb.send_message(9, "x")
    server.fail_next("sendMessage", 400, description="Bad Request: something odd")
    with pytest.raises(BadRequest, match="(?i)something odd"):
        await ptb.send_message(9, "x")
    server.fail_next("sendMessage", 0, delay=0.5)
    with pytest.raises(TimedOut):
        await ptb.send_message(9, "x", read_timeout=0.1)
    assert (await ptb.send_message(9, "x")).text == "x"  # faults are used up
    assert [c.status for c in server.calls_of("sendMessage")] == [429, 403, 500, 400, 200, 200]


async def test_unknown_method_and_token(server: FakeTelegram, ptb: Bot) -> None:
    with pytest.raises(BadRequest, match="(?i)not implemented"):
        await ptb.do_api_request("sendHologram", api_kwargs={"chat_id": 1})
    async with httpx.AsyncClient() as client:
        r = await client.post(f"{server.url}/bot999:WRONG/getMe")
        assert r.status_code == 401 and r.json()["ok"] is False
        r = await client.post(f"{server.url}/bot{TOKEN}/sendChatAction", json={"chat_id": 1, "action": "typing"})
        assert r.status_code == 400 and r.json() == {
            "ok": False,
            "error_code": 400,
            "description": "Bad Request: chat not found",
        }
        await server.send_text(1, 1, "hi")
        r = await client.post(f"{server.url}/bot{TOKEN}/sendMessage", json={"chat_id": 1, "text": "JSON body"})
        assert r.json()["result"]["text"] == "JSON body"
        r = await client.post(f"{server.url}/bot{TOKEN}/sendMessage", data={"chat_id": "1", "text": "123"})
        assert r.json()["result"]["text"] == "123"  # a form value that looks like JSON stays text where text is meant
        r = await client.post(
            f"{server.url}/bot{TOKEN}/sendDocument", data={"chat_id": "1"}, files={"document": ("a.pdf", b"%PDF-1.4")}
        )
        assert r.status_code == 400
    assert server.calls_of("sendDocument")[0].params["document"] == {"filename": "a.pdf", "size": 8}


async def test_commands_webhook_and_harmless_methods(server: FakeTelegram, ptb: Bot) -> None:
    from telegram import BotCommand

    assert await ptb.set_my_commands([BotCommand("start", "Bắt đầu"), BotCommand("tracuu", "Tra cứu hồ sơ")])
    assert [(c.command, c.description) for c in await ptb.get_my_commands()] == [
        ("start", "Bắt đầu"),
        ("tracuu", "Tra cứu hồ sơ"),
    ]
    assert await ptb.delete_my_commands() and await ptb.get_my_commands() == ()
    assert await ptb.set_webhook("http://127.0.0.1:1/telegram", secret_token="abc")
    with pytest.raises(Exception, match="(?i)webhook is active"):
        await ptb.get_updates()
    assert await ptb.delete_webhook()
    await server.send_text(3, 3, "hi")
    assert await ptb.send_chat_action(3, "typing")


async def test_user_side_updates_parse_as_ptb_updates(server: FakeTelegram, ptb: Bot) -> None:
    text = Update.de_json(await server.send_text(10, 10, "lam cccd can gi"), ptb)
    cmd = Update.de_json(await server.send_command(-100200, 10, "help", chat_type="supergroup", mention=True), ptb)
    sticker = Update.de_json(await server.send_sticker(10, 10), ptb)
    photo = Update.de_json(await server.send_photo(10, 10, caption="ảnh giấy hẹn"), ptb)
    fwd = Update.de_json(await server.send_forwarded(10, 10, "tin chuyển tiếp"), ptb)
    edited = Update.de_json(await server.edit_text(10, 10, text.message.message_id, "lam cccd mat bao lau"), ptb)
    assert (
        text.message.text == "lam cccd can gi"
        and text.effective_user.id == 10
        and text.effective_chat.type == "private"
    )
    assert cmd.message.text == "/help@tthc_bot" and cmd.effective_chat.type == "supergroup"
    assert cmd.message.entities[0].type == "bot_command" and cmd.message.entities[0].length == len("/help@tthc_bot")
    assert sticker.message.sticker and sticker.message.text is None
    assert photo.message.photo and photo.message.caption == "ảnh giấy hẹn"
    assert isinstance(fwd.message.forward_origin, MessageOriginUser)
    assert (
        edited.edited_message
        and edited.edited_message.text == "lam cccd mat bao lau"
        and edited.edited_message.edit_date
    )
    bot_msg = await ptb.send_message(
        10, "chọn", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="d1")]])
    )
    press = Update.de_json(await server.press_button(10, 10, bot_msg.message_id, "d1"), ptb)
    q = press.callback_query
    assert q.data == "d1" and q.chat_instance and q.message.message_id == bot_msg.message_id
    assert q.message.from_user.id == 123 and q.from_user.id == 10
    assert await q.answer("ok")
    with pytest.raises(BadRequest):
        await q.answer("twice")
    ids = [u.update_id for u in (text, cmd, sticker, photo, fwd, edited, press)]
    assert len(set(ids)) == len(ids) == len({*ids}) and ids == sorted(ids)
    message_ids = [text.message.message_id, cmd.message.message_id, sticker.message.message_id, bot_msg.message_id]
    assert len(set(message_ids)) == 4


async def test_long_polling_honours_offset_limit_and_timeout(server: FakeTelegram, ptb: Bot) -> None:
    started = time.monotonic()
    assert await ptb.get_updates(timeout=0.3) == ()
    assert time.monotonic() - started >= 0.25

    async def later() -> None:
        await asyncio.sleep(0.2)
        await server.send_text(1, 1, "one")

    task = asyncio.create_task(later())
    started = time.monotonic()
    [first] = await ptb.get_updates(timeout=2)
    assert time.monotonic() - started < 1.5 and first.message.text == "one"  # woke up on arrival, not at timeout
    await task
    for word in ("two", "three", "four"):
        await server.send_text(1, 1, word)
    got = await ptb.get_updates(offset=first.update_id + 1, limit=2)
    assert [u.message.text for u in got] == ["two", "three"]
    got = await ptb.get_updates(offset=got[-1].update_id + 1)
    assert [u.message.text for u in got] == ["four"]
    assert await ptb.get_updates(offset=got[-1].update_id + 1, timeout=0) == ()
    assert [c.params.get("timeout") for c in server.calls_of("getUpdates")][:2] == [0.3, 2]


def test_html_entities_use_utf16_offsets() -> None:
    text, entities = parse_html('📄 <b>Hồ sơ</b> <a href="https://dichvucong.gov.vn/?a=1&amp;b=2">Cổng</a>')
    assert text == "📄 Hồ sơ Cổng"
    assert entities == [
        {"offset": 3, "length": 5, "type": "bold"},
        {"offset": 9, "length": 4, "type": "text_link", "url": "https://dichvucong.gov.vn/?a=1&b=2"},
    ]
