"""The real PTB application end to end, as a citizen uses it, in polling and in webhook mode, against
the fake Bot API server: every assertion is on what the server received from the bot."""

from __future__ import annotations

import datetime as dt
import html

import pytest

from bot.conversation.core import Conversation
from bot.replies import cards
from bot.replies import messages as m
from bot.replies.events import Button, Reply
from bot.staff import demo
from bot.storage.db import session_scope
from handlers.app import COMMANDS
from handlers.telegram import LIMIT
from knowledge.codes import encode_payload
from tests.handlers.conftest import WEBHOOK_SECRET, Harness, button, buttons
from tests.telegram_api import REGISTERED, parse_html, utf16_len

UNSUPPORTED_PLAIN = parse_html(m.UNSUPPORTED)[0]


def plain(text: str) -> str:
    return parse_html(text)[0]


def all_callback_data(h: Harness) -> list[str]:
    """The data of every button the bot ever sent or edited in, as the server received it."""
    out = []
    for call in h.server.calls:
        markup = call.params.get("reply_markup") or {}
        out += [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row if "callback_data" in b]
    return out


async def test_start_greets_with_menu_and_registers_vietnamese_commands(bot: Harness) -> None:
    [commands_call] = bot.server.calls_of("setMyCommands")
    assert [(c["command"], c["description"]) for c in commands_call.params["commands"]] == COMMANDS
    assert any(ch in c["description"] for c in commands_call.params["commands"] for ch in "ắảạầđ")
    if bot.mode == "webhook":
        assert bot.server.webhook["secret_token"] == WEBHOOK_SECRET
        assert bot.server.webhook["url"].endswith("/telegram")
    else:
        assert bot.server.calls_of("deleteWebhook") and not bot.server.webhook

    out = await bot.citizen().command("start")
    msg = out.message
    assert msg["text"].startswith("Dạ, xin chào Anh/Chị!") and "Trung tâm Phục vụ hành chính công" in msg["text"]
    assert out.of("sendMessage")[0].params["parse_mode"] == "HTML"
    assert [b["text"] for b in buttons(msg)] == [
        m.MENU_PROCEDURE,
        m.MENU_BROWSE,
        m.MENU_CASE,
        m.MENU_FOLLOW,
        m.MENU_FEEDBACK,
        m.MENU_HELP,
    ]
    assert [len(row) for row in msg["reply_markup"]["inline_keyboard"]] == [2, 2, 2]
    assert msg["from"]["is_bot"] and msg["from"]["username"] == "tthc_bot"

    asked = await bot.citizen().tap(msg, m.MENU_PROCEDURE)
    assert asked.message["text"] == plain(m.ASK_PROCEDURE)
    helped = await bot.citizen().tap(msg, m.MENU_HELP)
    assert "Em có thể giúp Anh/Chị" in helped.message["text"] and "1900 0000" in helped.message["text"]
    assert len(helped.answers) == 1 and not helped.answers[0].params.get("text")


async def test_question_without_diacritics_gets_card_and_facets(bot: Harness) -> None:
    citizen = bot.citizen()
    out = await citizen.say("dang ky tam tru can giay to gi")
    card = out.message
    assert card["text"].startswith("📄 Đăng ký tạm trú") and "Hồ sơ cần chuẩn bị" in card["text"]
    assert "Căn cứ:" in card["text"]
    [sent] = out.of("sendMessage")
    assert sent.params["parse_mode"] == "HTML" and "<b>Đăng ký tạm trú</b>" in sent.params["text"]
    assert {"type": "bold"}.items() <= card["entities"][0].items()
    labels = [b["text"] for b in buttons(card)]
    assert m.FACET_BUTTONS["fee"] in labels and m.FACET_BUTTONS["where"] in labels and m.CHECKLIST_BUTTON in labels
    assert m.FACET_BUTTONS["documents"] not in labels  # the facet shown is not offered again

    fee = await citizen.tap(card, m.FACET_BUTTONS["fee"])
    assert fee.message["text"].startswith("📄 Đăng ký tạm trú") and "Phí, lệ phí" in fee.message["text"]
    assert m.FACET_BUTTONS["documents"] in [b["text"] for b in buttons(fee.message)]
    [answer] = fee.answers
    assert answer.params["callback_query_id"] == fee.update["callback_query"]["id"]
    where = await citizen.tap(card, m.FACET_BUTTONS["where"])  # an older card's buttons still work
    assert "Nơi nộp hồ sơ" in where.message["text"]
    assert not fee.edits and not where.edits


async def test_checklist_toggles_by_editing_the_same_message(bot: Harness) -> None:
    citizen = bot.citizen(4102)
    card = (await citizen.say("đăng ký tạm trú cần giấy tờ gì")).message
    opened = await citizen.tap(card, m.CHECKLIST_BUTTON)
    checklist = opened.message
    assert checklist["text"].startswith("Danh sách chuẩn bị hồ sơ: Đăng ký tạm trú")
    first = buttons(checklist)[0]
    assert first["text"].startswith("☐") and all(b["text"].startswith("☐") for b in buttons(checklist))

    toggled = await citizen.press(checklist, first["callback_data"])
    assert not toggled.messages and len(toggled.answers) == 1
    [edit] = toggled.edits
    assert edit.method == "editMessageText" and edit.params["message_id"] == checklist["message_id"]
    now = bot.server.bot_messages(citizen.chat_id)[-1]
    assert now["message_id"] == checklist["message_id"] and "edit_date" in now
    assert buttons(now)[0]["text"].startswith("☑") and buttons(now)[1]["text"].startswith("☐")
    assert "Còn thiếu 4/5" in now["text"]
    assert bot.server.edit_history(citizen.chat_id, checklist["message_id"])[0]["text"] == checklist["text"]

    untoggled = await citizen.press(now, buttons(now)[0]["callback_data"])
    assert not untoggled.messages and len(untoggled.edits) == 1
    assert buttons(bot.server.bot_messages(citizen.chat_id)[-1])[0]["text"].startswith("☐")


async def test_browse_fields_and_pages(bot: Harness) -> None:
    citizen = bot.citizen(4103)
    fields = (await citizen.command("linhvuc")).message
    assert fields["text"] == "Chọn lĩnh vực" and len(buttons(fields)) == 24
    page1 = await citizen.tap(fields, "Hộ tịch")
    assert not page1.messages and len(page1.edits) == 1  # the list turns into the field's first page
    shown = bot.server.bot_messages(citizen.chat_id)[-1]
    assert shown["text"] == "Hộ tịch (trang 1/2)" and len(buttons(shown)) == 8 + 2
    assert [b["text"] for b in buttons(shown)][-2:] == [m.BACK_TO_FIELDS, m.NEXT]

    await citizen.tap(shown, m.NEXT)
    shown = bot.server.bot_messages(citizen.chat_id)[-1]
    assert shown["text"] == "Hộ tịch (trang 2/2)" and len(buttons(shown)) == 6 + 2
    assert [b["text"] for b in buttons(shown)][-2:] == [m.PREV, m.BACK_TO_FIELDS]
    await citizen.tap(shown, m.PREV)
    assert bot.server.bot_messages(citizen.chat_id)[-1]["text"] == "Hộ tịch (trang 1/2)"

    proc = await citizen.press(shown, buttons(shown)[0]["callback_data"])
    assert proc.message["text"].startswith("📄 ") and "Hồ sơ cần chuẩn bị" in proc.message["text"]
    back = await citizen.tap(bot.server.bot_messages(citizen.chat_id)[0], m.BACK_TO_FIELDS)
    assert not back.messages and bot.server.bot_messages(citizen.chat_id)[0]["text"] == "Chọn lĩnh vực"
    assert len(bot.server.bot_messages(citizen.chat_id)) == 2  # the list and one card: paging never spams


async def test_low_confidence_offers_choices(bot: Harness) -> None:
    citizen = bot.citizen(4104)
    out = await citizen.say("dang ky xe")
    msg = out.message
    assert "có phải Anh/Chị hỏi về" in msg["text"]
    labels = [b["text"] for b in buttons(msg)]
    assert 2 <= len(labels) <= 5 and labels[-1] == m.NONE_OF_THESE
    assert any("xe" in label.lower() for label in labels[:-1])
    chosen = await citizen.press(msg, buttons(msg)[0]["callback_data"])
    assert chosen.message["text"].startswith("📄 " + labels[0][:20])
    none = await citizen.tap(msg, m.NONE_OF_THESE)
    assert none.message["text"].startswith("Dạ, em xin lỗi vì chưa hiểu đúng ý")


async def test_off_topic_question_is_refused_politely(bot: Harness) -> None:
    out = await bot.citizen(4105).say("toi nay doi tuyen da may gio")
    assert (
        out.message["text"].startswith("Dạ, em xin lỗi, câu hỏi này em chưa hỗ trợ được")
        and "1900 0000" in out.message["text"]
    )
    assert "reply_markup" not in out.message


async def test_stickers_photos_forwards_and_edits(bot: Harness) -> None:
    citizen = bot.citizen(4106)
    for out in [
        await citizen.sticker(),
        await citizen.photo(),
        await citizen.photo("lam cccd can gi"),
        await citizen.forward("Chuyển tiếp: làm căn cước cần gì"),
    ]:
        assert out.message["text"] == UNSUPPORTED_PLAIN
    question = await citizen.say("lam cccd")
    corrected = await citizen.edit(citizen.sent[-1], "dang ky tam tru can giay to gi")
    assert corrected.message["text"].startswith("📄 Đăng ký tạm trú")  # a corrected question is answered anew
    assert question.messages and corrected.message["message_id"] != question.messages[-1]["message_id"]
    started = await citizen.command("help")
    command_msg = started.update["message"]
    assert (await citizen.edit(command_msg, "/start")).silent  # an edited command is not run again


async def test_group_answers_commands_only(bot: Harness) -> None:
    group = bot.citizen(-100777, 4107, chat_type="supergroup")
    assert (await group.say("lam cccd can gi")).silent
    assert (await group.sticker()).silent
    assert (await group.forward("dang ky tam tru")).silent
    assert (await group.edit(group.sent[-1], "dang ky tam tru can gi")).silent
    assert (await group.command("help", mention="other_bot")).silent  # addressed to another bot
    helped = await group.command("help", mention=True)
    assert "Em có thể giúp Anh/Chị" in helped.message["text"] and helped.message["chat"]["id"] == -100777
    started = await group.command("start")
    menu = started.message
    asked = await group.tap(menu, m.MENU_PROCEDURE)  # the group's buttons work in the group
    assert asked.message["text"] == plain(m.ASK_PROCEDURE)
    plain_group = bot.citizen(-4242, 4108, chat_type="group")
    assert (await plain_group.say("đăng ký kết hôn cần gì")).silent
    assert (await plain_group.command("linhvuc")).message["text"] == "Chọn lĩnh vực"


async def test_stale_forged_and_foreign_buttons_get_a_short_answer_only(bot: Harness) -> None:
    mine, other = bot.citizen(4109), bot.citizen(4110)
    card = (await mine.say("dang ky tam tru can gi")).message
    other_menu = (await other.command("start")).message
    for out in [
        await mine.press(card, "f:abcdef:fee|AAAAAAAA"),  # forged
        await mine.press(card, "garbage"),
        await other.press(other_menu, button(card, m.FACET_BUTTONS["fee"])),
    ]:  # copied from another chat
        [answer] = out.answers
        assert answer.params["text"] == m.STALE_BUTTON and len(answer.params["text"]) <= 200
        assert not out.messages and not out.edits and len(out.calls) == 1


async def test_every_button_fits_in_64_bytes(bot: Harness) -> None:
    big = -1001234567890  # supergroup ids are the longest chat ids
    menu = (await bot.citizen(big, 4111, chat_type="supergroup").command("start")).message
    await bot.citizen(big, 4111, chat_type="supergroup").tap(menu, m.MENU_BROWSE)
    fields = bot.server.bot_messages(big)[-1]  # the list of fields comes as a new message: the menu stays
    assert fields["message_id"] != menu["message_id"] and fields["text"] == "Chọn lĩnh vực"
    for n, label in enumerate(b["text"] for b in buttons(fields)):
        citizen = bot.citizen(big - 1 - n, 4111, chat_type="supergroup")  # one chat per field: no flood guard
        listing = (await citizen.command("linhvuc")).message
        await citizen.tap(listing, label)
        page = bot.server.bot_messages(citizen.chat_id)[-1]
        assert page["text"].startswith(label)
        if m.NEXT in [b["text"] for b in buttons(page)]:
            await citizen.tap(page, m.NEXT)
        await citizen.tap(bot.server.bot_messages(citizen.chat_id)[-1], m.BACK_TO_FIELDS)
    private = bot.citizen(9_999_999_999)
    card = (await private.say("dang ky tam tru can gi")).message
    await private.tap(card, m.CHECKLIST_BUTTON)
    await private.say("dang ky xe")
    data = all_callback_data(bot)
    assert len(data) > 100
    assert max(len(d.encode()) for d in data) <= 64
    assert all(c.status == 200 for c in bot.server.calls if c.method != "getUpdates")


async def test_reply_longer_than_4096_is_split(bot: Harness, kb, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    proc = max(kb.procedures, key=lambda p: len(cards.full_card(p)))
    long_html = cards.full_card(proc) + "\n\n" + "<b>" + "rất dài " * 700 + "</b>"
    assert utf16_len(plain(long_html)) > 2 * LIMIT
    original = Conversation.handle

    async def handle(self, event):  # type: ignore[no-untyped-def]
        if event.text == "gửi bản đầy đủ":
            return [Reply(long_html, [[Button("ok", "n|x")]])]
        return await original(self, event)

    monkeypatch.setattr(Conversation, "handle", handle)
    out = await bot.citizen(4112).say("gửi bản đầy đủ")
    assert len(out.messages) >= 3 and all(c.status == 200 for c in out.calls)
    assert all(utf16_len(msg["text"]) <= LIMIT for msg in out.messages)
    assert all(len(c.params["text"]) <= LIMIT for c in out.of("sendMessage"))
    assert "".join("".join(msg["text"] for msg in out.messages).split()) == "".join(plain(long_html).split())
    assert [("reply_markup" in msg) for msg in out.messages] == [False] * (len(out.messages) - 1) + [True]
    assert out.messages[-1]["entities"][0]["type"] == "bold"  # the bold run goes on in the next part


async def test_case_lookup_with_the_phone_digits(bot: Harness, bot_settings, kb, engine) -> None:  # type: ignore[no-untyped-def]
    async with session_scope(engine) as s:
        cases = await demo.seed(
            session=s, kb=kb, secret=bot_settings.secret_key.get_secret_value(), count=8, today=dt.date(2026, 11, 25)
        )
    case = cases[3]
    citizen = bot.citizen(4113)
    asked = await citizen.command("tracuu", case.code)
    assert "4 số cuối" in asked.message["text"]
    wrong = await citizen.say("0000" if case.phone_last4 != "0000" else "1111")
    assert "chưa khớp" in wrong.message["text"] and case.code not in wrong.message["text"]
    await citizen.command("tracuu", case.code.lower().replace(".", " "))
    found = await citizen.say(case.phone_last4)
    text = found.message["text"]
    assert f"Hồ sơ {case.code}" in text and "Trạng thái:" in text and "***" in text
    assert "Quá trình xử lý" in text
    assert html.escape(case.code) in found.of("sendMessage")[0].params["text"]

    via_menu = bot.citizen(4114)
    menu = (await via_menu.command("start")).message
    assert (await via_menu.tap(menu, m.MENU_CASE)).message["text"] == plain(m.ASK_CODE)
    assert "4 số cuối" in (await via_menu.say(f"ma ho so {case.code}")).message["text"]
    assert f"Hồ sơ {case.code}" in (await via_menu.say(case.phone_last4)).message["text"]

    deep = bot.citizen(4115)
    payload = encode_payload(cases[5].code)
    assert payload and "4 số cuối" in (await deep.command("start", payload)).message["text"]
    assert f"Hồ sơ {cases[5].code}" in (await deep.say(cases[5].phone_last4)).message["text"]


async def test_failures_of_telegram_do_not_lose_replies_or_stop_the_bot(bot: Harness) -> None:
    citizen = bot.citizen(4116)
    card = (await citizen.say("dang ky tam tru can gi")).message
    bot.server.fail_next(
        "answerCallbackQuery",
        400,
        description="Bad Request: query is too old and response timeout expired or query id is invalid",
    )
    late = await citizen.tap(card, m.FACET_BUTTONS["fee"])
    assert "Phí, lệ phí" in late.message["text"]  # the answer to a late press still arrives

    checklist = (await citizen.tap(card, m.CHECKLIST_BUTTON)).message
    bot.server.fail_next("editMessageText", 400, description="Bad Request: message to edit not found")
    fallback = await citizen.press(checklist, buttons(checklist)[0]["callback_data"])
    assert buttons(fallback.message)[0]["text"].startswith("☑")  # sent anew when it cannot be edited

    bot.server.blocked.add(citizen.chat_id)
    blocked = await citizen.say("dang ky tam tru can gi")
    assert [c.status for c in blocked.of("sendMessage")] == [403] and not blocked.messages
    bot.server.blocked.clear()
    bot.server.fail_next("sendMessage", 500)  # a server error: the reply is retried and still arrives
    retried = await citizen.say("dang ky tam tru can gi")
    assert [c.status for c in retried.of("sendMessage")] == [500, 200]
    assert retried.message["text"].startswith("📄 Đăng ký tạm trú")
    bot.server.fail_next("sendMessage", 429, retry_after=1)  # a short flood wait is waited out
    waited = await citizen.say("dang ky tam tru can gi")
    assert [c.status for c in waited.of("sendMessage")] == [429, 200]


@pytest.mark.parametrize("mode", ["webhook"])
async def test_webhook_refuses_updates_without_the_right_secret(bot: Harness) -> None:
    server, chat = bot.server, 4117
    refused = []
    for secret in ["wrong-secret", None, WEBHOOK_SECRET.upper()]:
        server.secret_token_override = secret
        update = await server.send_text(chat, chat, "dang ky tam tru can gi")
        delivery = server.deliveries[-1]
        assert delivery.update_id == update["update_id"] and delivery.status == 403
        refused.append(update["update_id"])
    server.secret_token_override = REGISTERED
    out = await bot.citizen(chat).say("dang ky tam tru can gi")
    assert server.deliveries[-1].status == 200 and out.message["text"].startswith("📄 Đăng ký tạm trú")
    assert not set(refused) & set(bot.processed)
    assert len(server.calls_of("sendMessage")) == 1  # only the genuine update was answered


@pytest.mark.parametrize("mode", ["polling"])
async def test_polling_long_polls_and_confirms_updates(bot: Harness) -> None:
    out = await bot.citizen(4118).say("xin chào")
    assert out.message["text"].startswith("Dạ, xin chào")
    polls = bot.server.calls_of("getUpdates")
    assert all(c.params.get("timeout") == 2 for c in polls)
    assert set(polls[0].params["allowed_updates"]) == {"message", "edited_message", "callback_query"}
    await bot.server.wait_for_call("getUpdates", lambda c: c.params.get("offset", 0) > out.update["update_id"])


async def test_a_flooding_chat_gets_one_line_then_silence_and_buttons_stop_spinning(bot: Harness) -> None:
    from bot.conversation.flood import FloodGuard

    limit = FloodGuard().limit
    flooder, calm = bot.citizen(4119), bot.citizen(4120)
    menu = (await flooder.command("start")).message
    for _ in range(limit - 1):
        assert (await flooder.say("cam on")).messages
    warned = await flooder.say("cam on")
    assert warned.message["text"] == plain(m.FLOOD)
    assert (await flooder.say("dang ky tam tru can gi")).silent
    press = await flooder.tap(menu, m.MENU_HELP)  # buttons are not counted as flooding: a checklist is not spam
    assert [c.method for c in press.calls] == ["answerCallbackQuery", "sendMessage"]
    assert (await calm.say("dang ky tam tru can gi")).message["text"].startswith("📄")  # other chats are not affected
