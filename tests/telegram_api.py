"""A small fake Telegram Bot API server for end-to-end tests of the PTB adapter.

It implements the methods the bot calls, answers in the Bot API's JSON shapes (checked in
tests/handlers/test_telegram_api.py with PTB's own `de_json`), and behaves like Telegram where
a mistake of the bot would matter: message text is parsed as Telegram HTML (bad markup -> 400
"can't parse entities"), over-long texts, empty texts, button data over 64 bytes, unknown chats,
edits that change nothing and answers to unknown callback queries are refused as Telegram refuses
them. It runs on 127.0.0.1 on a free port, in the test's event loop.

Bot side: `POST /bot<token>/<method>` with JSON, form-encoded or multipart bodies (PTB sends form
data). Every call is recorded in `calls`. Unknown methods answer 400 `{ok: false, description}`.

User side, for tests: `send_text`, `send_command`, `press_button`, `send_sticker`, `send_photo`,
`edit_text` (an edited_message update), `send_forwarded`, `send_update` (anything else). Updates
wait in a queue for getUpdates (long polling honours offset, limit and timeout) or, once a webhook
is set, are POSTed to it with the X-Telegram-Bot-Api-Secret-Token header (`secret_token_override`
sends a wrong one or none). `wait_for_bot_messages`, `wait_for_call` and `wait_until` wait for the
bot with a timeout. `fail_next(method, status, ...)` injects faults; `blocked` makes a chat answer
403 "bot was blocked by the user".
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_CALLBACK_ANSWER = 200
REGISTERED = object()  # `secret_token_override` default: send the secret the bot registered
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)  # what Telegram sends when allowed_updates is not given (no chat_member, message_reaction*)

# Form-encoded parameters that PTB sends as plain strings; every other value is JSON-encoded.
STRING_PARAMS = frozenset(
    {
        "text",
        "parse_mode",
        "callback_query_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "language_code",
        "caption",
        "inline_message_id",
        "description",
        "short_description",
        "name",
        "title",
        "emoji",
        "query",
        "business_connection_id",
        "message_effect_id",
        "certificate",
    }
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


# --- Telegram HTML -----------------------------------------------------------------------------

_HTML_TOKEN = re.compile(
    r"<(/?)([a-zA-Z][\w-]*)((?:\s+[\w-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>|<|&(#\d+|#[xX][0-9a-fA-F]+|lt|gt|amp|quot);"
)
_ATTR = re.compile(r"([\w-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Telegram's HTML parse mode: the plain text and its entities (offsets in UTF-16 code units).

    Raises ApiError 400 "can't parse entities" where Telegram does: unknown tags, a bare `<`,
    unmatched or unclosed tags, <a> without href, <span> without class="tg-spoiler".
    """
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int, dict[str, Any] | None]] = []
    entities: list[dict[str, Any]] = []
    i = 0

    def emit(s: str) -> None:
        nonlocal pos16
        out.append(s)
        pos16 += utf16_len(s)

    def fail(msg: str, at: int) -> ApiError:
        return bad_request(f"can't parse entities: {msg} at byte offset {len(text[:at].encode())}")

    while i < len(text):
        j = min((k for k in (text.find("<", i), text.find("&", i)) if k >= 0), default=len(text))
        if j > i:
            emit(text[i:j])
            i = j
            continue
        m = _HTML_TOKEN.match(text, i)
        if text[i] == "&":
            if m and m.group(4):
                ent = m.group(4)
                emit(_NAMED[ent] if ent in _NAMED else chr(int(ent[2:], 16) if ent[1] in "xX" else int(ent[1:])))
                i = m.end()
            else:  # Telegram leaves an unknown or bare & as it is
                emit("&")
                i += 1
            continue
        if not m or not m.group(2):
            raise fail("unexpected end of name token" if text[i : i + 2] in ("<", "< ") else "unsupported start tag", i)
        closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
        if name not in _TAG_TYPES:
            raise fail(f'unsupported {"end" if closing else "start"} tag "{name}"', i)
        if closing:
            if not stack:
                raise fail(f'unexpected end tag "{name}"', i)
            open_name, start, extra = stack.pop()
            if open_name != name:
                raise fail(f'unmatched end tag, expected "</{open_name}>", found "</{name}>"', i)
            if extra is not None and pos16 > start:
                entities.append({"offset": start, "length": pos16 - start, **extra})
        else:
            values = {
                a.group(1).lower(): html.unescape(a.group(2) or a.group(3) or a.group(4) or "")
                for a in _ATTR.finditer(attrs)
            }
            extra = {"type": _TAG_TYPES[name]}
            if name == "a":
                if not values.get("href"):
                    raise fail('tag "a" must have attribute "href"', i)
                extra = {"type": "text_link", "url": values["href"]}
            elif name == "span" and values.get("class") != "tg-spoiler":
                raise fail('tag "span" must have class "tg-spoiler"', i)
            elif name == "code" and stack and stack[-1][0] == "pre":
                lang = values.get("class", "")
                if lang.startswith("language-") and stack[-1][2] is not None:
                    stack[-1][2]["language"] = lang[len("language-") :]
                extra = None  # <pre><code class="language-x"> is one pre entity
            elif name == "blockquote" and "expandable" in values:
                extra = {"type": "expandable_blockquote"}
            elif name == "tg-emoji":
                extra = {"type": "custom_emoji", "custom_emoji_id": values.get("emoji-id", "")}
            stack.append((name, pos16, extra))
        i = m.end()
    if stack:
        raise fail(f'can\'t find end tag corresponding to start tag "{stack[-1][0]}"', len(text))
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


# --- records -----------------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    status: int = 200
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    method: str
    status: int
    description: str
    retry_after: int | None = None
    delay: float = 0.0
    times: int = 1


@dataclass
class Delivery:
    update_id: int
    status: int
    body: str


def _clean(value: Any) -> Any:
    return json.loads(json.dumps(value))


class FakeTelegram:
    def __init__(self, token: str = "123:ABC", *, username: str = "tthc_bot", first_name: str = "Trợ lý TTHC") -> None:
        self.token = token
        self.bot_user = {"id": int(token.split(":")[0]), "is_bot": True, "first_name": first_name, "username": username}
        self.port = 0
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.blocked: set[int] = set()
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] = {}
        self.secret_token_override: Any = REGISTERED
        self.deliveries: list[Delivery] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, dict[int, dict[str, Any]]] = {}  # chat id -> message id -> Message
        self.bot_message_ids: dict[int, list[int]] = {}  # chat id -> ids of the bot's messages, in order
        self.edits: dict[tuple[int, int], list[dict[str, Any]]] = {}  # (chat, message) -> earlier versions
        self.callback_queries: dict[str, dict[str, Any]] = {}
        self.answered: dict[str, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []
        self._allowed: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._ids = itertools.count(1000)  # message ids, unique across chats
        self._update_ids = itertools.count(500_000)
        self._query_ids = itertools.count(9_000_000)
        self._new_update = asyncio.Event()
        self._changed = asyncio.Event()
        self._poll_generation = 0
        self._closing = False
        self._deliver_lock = asyncio.Lock()
        self._flush_task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None

    # --- life cycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1)
        await self._runner.setup()
        for _ in range(5):
            self.port = free_port()
            try:
                await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
                break
            except OSError:
                continue
        self._client = ClientSession(timeout=ClientTimeout(total=10))
        return self

    async def stop(self) -> None:
        self._closing = True
        self._wake()
        if self._flush_task:
            self._flush_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush_task
        if self._client:
            await self._client.close()
        if self._runner:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _wake(self) -> None:
        self._new_update.set()
        self._new_update = asyncio.Event()
        self._changed.set()
        self._changed = asyncio.Event()

    # --- HTTP --------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        m = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", request.path)
        if not m:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        token, method = m.groups()
        if token != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = await self._params(request)
        call = Call(method, params)
        self.calls.append(call)
        try:
            fault = self._take_fault(method)
            if fault:
                if fault.delay:
                    await asyncio.sleep(fault.delay)
                if fault.status:
                    raise ApiError(
                        fault.status,
                        fault.description,
                        {"retry_after": fault.retry_after} if fault.retry_after is not None else None,
                    )
            handler = getattr(self, f"_m_{method.lower()}", None)
            if handler is None:
                raise bad_request(f"method {method!r} is not implemented by the fake server")
            result = await handler(params)
            body, status = {"ok": True, "result": result}, 200
        except ApiError as exc:
            body, status = exc.body(), exc.status
        call.status = status
        self._changed.set()
        self._changed = asyncio.Event()
        return web.json_response(body, status=status)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {}
        raw: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
            else:
                form = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        params[key] = {"filename": value.filename, "size": len(value.file.read())}
                    else:
                        raw[key] = value
        for key, value in raw.items():
            if key in STRING_PARAMS:
                params[key] = value
            else:
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
        return params

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.method.lower() == method.lower():
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # --- fault injection ---------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """The next `times` calls of `method` fail with `status` (0: only `delay`, then the normal answer)."""
        default = {
            400: "Bad Request: injected failure",
            403: "Forbidden: bot was blocked by the user",
            429: f"Too Many Requests: retry after {retry_after or 1}",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }
        if status == 429 and retry_after is None:
            retry_after = 1
        self.faults.append(
            Fault(method, status, description or default.get(status, "Injected failure"), retry_after, delay, times)
        )

    # --- Bot API methods ---------------------------------------------------------------------------

    async def _m_getme(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getupdates(self, p: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset, limit, timeout = int(p.get("offset") or 0), int(p.get("limit") or 100), float(p.get("timeout") or 0)
        if not 1 <= limit <= 100:
            limit = 100
        if "allowed_updates" in p and p["allowed_updates"] is not None:
            self._allowed = frozenset(p["allowed_updates"]) or DEFAULT_UPDATE_TYPES
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older long poll still waiting gets 409, as on Telegram
        deadline = time.monotonic() + timeout
        while True:
            if offset < 0:
                self._pending = self._pending[offset:]
            elif offset:
                self._pending = [u for u in self._pending if u["update_id"] >= offset]
            if self._pending or self._closing:
                return [_clean(u) for u in self._pending[:limit]]
            left = deadline - time.monotonic()
            if left <= 0:
                return []
            event = self._new_update
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), left)
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )

    async def _m_setwebhook(self, p: dict[str, Any]) -> bool:
        if not p.get("url"):
            return await self._m_deletewebhook(p)
        if p.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = {
            "url": p["url"],
            "secret_token": p.get("secret_token"),
            "max_connections": p.get("max_connections", 40),
        }
        if p.get("allowed_updates") is not None:
            self._allowed = frozenset(p["allowed_updates"]) or DEFAULT_UPDATE_TYPES
        if self._pending:
            self._flush_task = asyncio.create_task(self._flush())
        return True

    async def _m_deletewebhook(self, p: dict[str, Any]) -> bool:
        self.webhook = {}
        if p.get("drop_pending_updates"):
            self._pending.clear()
        return True

    async def _m_getwebhookinfo(self, p: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
            "max_connections": self.webhook.get("max_connections", 40),
        }

    async def _m_setmycommands(self, p: dict[str, Any]) -> bool:
        commands = p.get("commands") or []
        for c in commands:
            if (
                not re.fullmatch(r"[a-z0-9_]{1,32}", c.get("command", ""))
                or not 1 <= len(c.get("description", "")) <= 256
            ):
                raise bad_request("BOT_COMMAND_INVALID")
        self.commands[
            (json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True), p.get("language_code", ""))
        ] = commands
        return True

    async def _m_deletemycommands(self, p: dict[str, Any]) -> bool:
        self.commands.pop(
            (json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True), p.get("language_code", "")), None
        )
        return True

    async def _m_getmycommands(self, p: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(
            (json.dumps(p.get("scope") or {"type": "default"}, sort_keys=True), p.get("language_code", "")), []
        )

    async def _m_sendchataction(self, p: dict[str, Any]) -> bool:
        self._chat(p)
        return True

    async def _m_sendmessage(self, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(p)
        text, entities = self._text(p)
        msg: dict[str, Any] = {
            "message_id": next(self._ids),
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            msg["entities"] = entities
        markup = self._markup(p.get("reply_markup"))
        if markup:
            msg["reply_markup"] = markup
        self.messages.setdefault(chat["id"], {})[msg["message_id"]] = msg
        self.bot_message_ids.setdefault(chat["id"], []).append(msg["message_id"])
        return _clean(msg)

    async def _m_editmessagetext(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._editable(p)
        text, entities = self._text(p)
        markup = self._markup(p.get("reply_markup"))
        if text == msg["text"] and entities == msg.get("entities", []) and markup == msg.get("reply_markup"):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        return self._edit(msg, text=text, entities=entities, reply_markup=markup)

    async def _m_editmessagereplymarkup(self, p: dict[str, Any]) -> dict[str, Any]:
        msg = self._editable(p)
        markup = self._markup(p.get("reply_markup"))
        if markup == msg.get("reply_markup"):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        return self._edit(msg, reply_markup=markup)

    async def _m_deletemessage(self, p: dict[str, Any]) -> bool:
        chat = self._chat(p)
        msg = self.messages.get(chat["id"], {}).pop(int(p.get("message_id", 0)), None)
        if msg is None:
            raise bad_request("message to delete not found")
        with contextlib.suppress(ValueError):
            self.bot_message_ids.get(chat["id"], []).remove(msg["message_id"])
        return True

    async def _m_answercallbackquery(self, p: dict[str, Any]) -> bool:
        qid = str(p.get("callback_query_id", ""))
        if qid not in self.callback_queries or qid in self.answered:
            raise bad_request("query is too old and response timeout expired or query id is invalid")
        if len(p.get("text") or "") > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        self.answered[qid] = p
        return True

    # --- helpers of the methods ----------------------------------------------------------------------

    def _chat(self, p: dict[str, Any]) -> dict[str, Any]:
        try:
            chat_id = int(p.get("chat_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None
        if chat_id not in self.chats:
            raise bad_request("chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return self.chats[chat_id]

    def _text(self, p: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
        raw = str(p.get("text") or "")
        mode = (p.get("parse_mode") or "").upper()
        if mode == "HTML":
            text, entities = parse_html(raw)
        elif mode:
            raise bad_request(f"unsupported parse_mode {mode!r} in the fake server")
        else:
            text, entities = raw, []
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, entities

    def _markup(self, markup: Any) -> dict[str, Any] | None:
        if not markup:
            return None
        if isinstance(markup, str):
            markup = json.loads(markup)
        rows = markup.get("inline_keyboard")
        if rows is None:
            return None  # reply keyboards are not part of the returned Message
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                kinds = [
                    k
                    for k in (
                        "callback_data",
                        "url",
                        "switch_inline_query",
                        "web_app",
                        "login_url",
                        "pay",
                        "copy_text",
                        "callback_game",
                        "switch_inline_query_current_chat",
                    )
                    if k in button
                ]
                if len(kinds) != 1:
                    raise bad_request("can't parse inline keyboard button: exactly one optional field must be used")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA:
                    raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"(https?|tg)://", button["url"]):
                    raise bad_request(f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL")
        return {"inline_keyboard": rows}

    def _editable(self, p: dict[str, Any]) -> dict[str, Any]:
        if p.get("inline_message_id"):
            raise bad_request("inline messages are not supported by the fake server")
        chat = self._chat(p)
        msg = self.messages.get(chat["id"], {}).get(int(p.get("message_id") or 0))
        if msg is None:
            raise bad_request("message to edit not found")
        if msg.get("from", {}).get("id") != self.bot_user["id"]:
            raise bad_request("message can't be edited")
        return msg

    def _edit(self, msg: dict[str, Any], **changes: Any) -> dict[str, Any]:
        self.edits.setdefault((msg["chat"]["id"], msg["message_id"]), []).append(_clean(msg))
        for key, value in changes.items():
            if value:
                msg[key] = value
            else:
                msg.pop(key, None)
        msg["edit_date"] = int(time.time())
        return _clean(msg)

    # --- user side -----------------------------------------------------------------------------------

    def user(self, user_id: int, first_name: str | None = None) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name or f"Công dân {user_id}",
            "language_code": "vi",
        }

    def chat(self, chat_id: int, user_id: int, chat_type: str = "private") -> dict[str, Any]:
        if chat_id not in self.chats:
            if chat_type == "private":
                self.chats[chat_id] = {"id": chat_id, "type": "private", "first_name": self.user(user_id)["first_name"]}
            else:
                self.chats[chat_id] = {"id": chat_id, "type": chat_type, "title": f"Nhóm {abs(chat_id)}"}
        return self.chats[chat_id]

    def _user_message(self, chat_id: int, user_id: int, chat_type: str, **fields: Any) -> dict[str, Any]:
        msg = {
            "message_id": next(self._ids),
            "from": self.user(user_id),
            "chat": self.chat(chat_id, user_id, chat_type),
            "date": int(time.time()),
            **fields,
        }
        self.messages.setdefault(chat_id, {})[msg["message_id"]] = msg
        return msg

    async def send_update(self, body: dict[str, Any]) -> dict[str, Any]:
        """Queue (polling) or deliver (webhook) one update; returns it with its new update_id."""
        update = {"update_id": next(self._update_ids), **_clean(body)}
        kind = next(k for k in update if k != "update_id")
        if kind not in self._allowed:
            return update  # Telegram does not send update types the bot did not ask for
        self._pending.append(update)
        self._wake()
        if self.webhook.get("url"):
            await self._flush()
        return update

    async def _flush(self) -> None:
        async with self._deliver_lock:
            while self._pending and self.webhook.get("url") and self._client:
                update = self._pending.pop(0)
                headers = {}
                secret = (
                    self.webhook.get("secret_token")
                    if self.secret_token_override is REGISTERED
                    else self.secret_token_override
                )
                if secret is not None:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = secret
                try:
                    async with self._client.post(self.webhook["url"], json=update, headers=headers) as resp:
                        self.deliveries.append(Delivery(update["update_id"], resp.status, await resp.text()))
                except Exception as exc:  # noqa: BLE001 — recorded; Telegram would retry later
                    self.deliveries.append(Delivery(update["update_id"], 0, repr(exc)))
                self._wake()

    async def send_text(
        self, chat_id: int, user_id: int, text: str, chat_type: str = "private", **fields: Any
    ) -> dict[str, Any]:
        return await self.send_update({"message": self._user_message(chat_id, user_id, chat_type, text=text, **fields)})

    async def send_command(
        self,
        chat_id: int,
        user_id: int,
        command: str,
        args: str = "",
        chat_type: str = "private",
        *,
        mention: bool | str = False,
    ) -> dict[str, Any]:
        """`/command[@bot] args` with the bot_command entity Telegram adds (CommandHandler needs it)."""
        name = command.lstrip("/")
        if mention:
            name += "@" + (mention if isinstance(mention, str) else self.bot_user["username"])
        text = f"/{name}" + (f" {args}" if args else "")
        entities = [{"type": "bot_command", "offset": 0, "length": utf16_len(name) + 1}]
        return await self.send_text(chat_id, user_id, text, chat_type, entities=entities)

    async def send_sticker(self, chat_id: int, user_id: int, chat_type: str = "private") -> dict[str, Any]:
        sticker = {
            "file_id": f"CAACAgI{next(self._ids)}",
            "file_unique_id": "AgADsticker",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": "👍",
        }
        return await self.send_update({"message": self._user_message(chat_id, user_id, chat_type, sticker=sticker)})

    async def send_photo(
        self, chat_id: int, user_id: int, caption: str | None = None, chat_type: str = "private"
    ) -> dict[str, Any]:
        photo = [
            {
                "file_id": f"AgACAgI{next(self._ids)}",
                "file_unique_id": f"AQAD{w}",
                "width": w,
                "height": w,
                "file_size": w * 40,
            }
            for w in (90, 320, 800)
        ]
        extra = {"caption": caption} if caption else {}
        return await self.send_update(
            {"message": self._user_message(chat_id, user_id, chat_type, photo=photo, **extra)}
        )

    async def send_forwarded(
        self, chat_id: int, user_id: int, text: str, *, origin_user_id: int = 777, chat_type: str = "private"
    ) -> dict[str, Any]:
        origin = {"type": "user", "sender_user": self.user(origin_user_id), "date": int(time.time()) - 3600}
        return await self.send_update(
            {"message": self._user_message(chat_id, user_id, chat_type, text=text, forward_origin=origin)}
        )

    async def edit_text(self, chat_id: int, user_id: int, message_id: int, text: str) -> dict[str, Any]:
        """The user edits one of their messages: an edited_message update."""
        msg = self.messages[chat_id][message_id]
        if msg["from"]["id"] != user_id:
            raise ValueError("a user can only edit their own messages")
        self.edits.setdefault((chat_id, message_id), []).append(_clean(msg))
        msg.update(text=text, edit_date=int(time.time()))
        msg.pop("entities", None)
        return await self.send_update({"edited_message": msg})

    async def press_button(
        self, chat_id: int, user_id: int, message: dict[str, Any] | int, callback_data: str
    ) -> dict[str, Any]:
        """A callback_query for a button of a bot message (the data is not checked: forged presses are allowed)."""
        message_id = message if isinstance(message, int) else message["message_id"]
        current = self.messages[chat_id][message_id]
        query = {
            "id": str(next(self._query_ids)),
            "from": self.user(user_id),
            "message": current,
            "chat_instance": f"-{abs(chat_id) * 7919 % 10**12}",
            "data": callback_data,
        }
        self.callback_queries[query["id"]] = query
        return await self.send_update({"callback_query": query})

    # --- what the bot did ------------------------------------------------------------------------------

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """The bot's messages in a chat, in the order sent, as they are now (edits applied)."""
        chat = self.messages.get(chat_id, {})
        return [_clean(chat[i]) for i in self.bot_message_ids.get(chat_id, []) if i in chat]

    def edit_history(self, chat_id: int, message_id: int) -> list[dict[str, Any]]:
        """Earlier versions of a message, oldest first (the current one is not included)."""
        return list(self.edits.get((chat_id, message_id), []))

    def calls_of(self, method: str, since: int = 0) -> list[Call]:
        return [c for c in self.calls[since:] if c.method.lower() == method.lower()]

    async def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            event = self._changed
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(event.wait(), min(left, 0.5))

    async def wait_for_bot_messages(self, chat_id: int, n: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:
        """All of the bot's messages in the chat once there are at least `n`."""
        await self.wait_until(
            lambda: len(self.bot_message_ids.get(chat_id, [])) >= n, timeout, f"{n} bot message(s) in chat {chat_id}"
        )
        return self.bot_messages(chat_id)

    async def wait_for_call(
        self, method: str, where: Callable[[Call], bool] = lambda c: True, *, since: int = 0, timeout: float = 5.0
    ) -> Call:
        return await self.wait_until(
            lambda: next((c for c in self.calls_of(method, since) if where(c)), None), timeout, f"a {method} call"
        )
