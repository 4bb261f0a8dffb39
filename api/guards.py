"""What stands before the routes: the body guard (pure ASGI, outermost) and the per-key rate limiter.

`BodyGuard`: any unexpected exception becomes a 500 with an error id (logged with its traceback, never sent); an API
key in the URL (`?api_key=`, `?key=`, `?token=`, or any value that looks like a key) gets 401 before anything else,
and the query string is scrubbed in the request's scope, which is what the server's access log prints (uvicorn logs
the scope it handed the application), so the key never reaches the log; bodies over API_MAX_BODY_BYTES get 413
before any work is done, whether Content-Length says so or a chunked body grows past it; a JSON body that cannot be
decoded (bad syntax, not UTF-8, nested too deeply, huge numbers) gets 422. `AccessLogScrub` does the same to every
line of the access log, for whatever reaches it another way.

`RateLimiter`: one leaky bucket (aiolimiter) per API key, and per client address for failed authentication:
API_RATE_BURST requests at once, drained at API_RATE_LIMIT a minute. In memory: each process limits on its own and a
restart resets it.
"""

from __future__ import annotations

import json
import logging
import math
import re
import uuid
from typing import Any
from urllib.parse import unquote_plus

from aiolimiter import AsyncLimiter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body, send_json

log = logging.getLogger("api.guards")


SECRET_PARAMS = frozenset(
    {"api_key", "apikey", "api-key", "key", "token", "access_token", "x-api-key", "x_api_key", "authorization"}
)
SCRUBBED = "***"
_KEY_LIKE = re.compile(r"tthc_[A-Za-z0-9_\-]{20,}")  # an API key's shape (bot/staff/apikeys.py), wherever it is


def scrub_query(query: str) -> tuple[str, bool]:
    """The query string with the values of key-like parameters (and any key-shaped value) replaced, and whether there
    was one."""
    found = False
    parts = []
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        decoded = unquote_plus(name).strip().lower()
        if sep and (decoded in SECRET_PARAMS or _KEY_LIKE.search(unquote_plus(value))):
            found, part = True, f"{name}={SCRUBBED}"
        elif _KEY_LIKE.search(unquote_plus(name)):
            found, part = True, SCRUBBED
        parts.append(part)
    return "&".join(parts), found


def scrub_url(text: str) -> str:
    """A request line or URL as it may be logged: key-like query values and key-shaped text replaced."""
    path, sep, query = text.partition("?")
    if sep:
        text = f"{path}?{scrub_query(query)[0]}"
    return _KEY_LIKE.sub(SCRUBBED, text)


class AccessLogScrub(logging.Filter):
    """Keys out of the access log (uvicorn's `uvicorn.access`: its arguments hold the path with the query)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(scrub_url(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = scrub_url(record.msg)
        return True


def _is_json(content_type: str) -> bool:
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


def _undecodable(body: bytes) -> dict[str, Any] | None:
    """Why `body` is not JSON, as a validation error item; None when it is."""
    try:
        json.loads(body)
    except json.JSONDecodeError as exc:
        return {"loc": ["body", exc.pos], "msg": f"JSON decode error: {exc.msg}", "type": "json_invalid"}
    except UnicodeDecodeError:
        return {"loc": ["body"], "msg": "the body is not UTF-8 text", "type": "json_invalid"}
    except RecursionError:
        return {"loc": ["body"], "msg": "JSON nested too deeply", "type": "json_invalid"}
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        return {"loc": ["body"], "msg": str(exc)[:200], "type": "json_invalid"}
    return None


KEY_IN_URL = error_body(
    "api_key_in_url",
    "API keys are not accepted in the URL, which servers and proxies log: send it as `Authorization: Bearer <key>` "
    "or `X-API-Key: <key>`. If this was a real key, have it revoked and replaced: it may already be in a log.",
    message_vi="Không gửi khóa API trong URL; dùng header Authorization: Bearer <key> hoặc X-API-Key.",
)


class BodyGuard:
    """Unexpected errors -> 500 with an error id; oversized bodies -> 413; undecodable JSON -> 422."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        query = scope.get("query_string", b"").decode("latin-1")
        if query:
            scrubbed, found = scrub_query(query)
            if found:
                scope["query_string"] = scrubbed.encode("latin-1")  # in place: the access log prints this scope
                await send_json(send, 401, KEY_IN_URL, {"www-authenticate": "Bearer"})
                return
        try:
            replay = await self._read_body(scope, receive, tracking_send)
            if replay is not None:
                await self.app(scope, replay, tracking_send)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("unexpected error %s on %s %s", error_id, scope.get("method"), scope.get("path"))
            if started:
                raise
            message = "Unexpected error; nothing was changed. Quote the error id when reporting it."
            body = error_body("internal_error", message, error_id=error_id)
            await send_json(send, 500, body, {"x-error-id": error_id})

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        """The whole body, read and checked, replayed to the app; None when an error was answered instead."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        too_large = error_body("body_too_large", f"The request body is larger than {self.max_body} bytes.")
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await send_json(send, 413, too_large, {"connection": "close"})
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await send_json(send, 413, too_large, {"connection": "close"})
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers.get("content-type", "")) and (problem := _undecodable(body)) is not None:
            invalid = error_body("validation_error", f"invalid JSON: {problem['msg']}", detail=[problem])
            await send_json(send, 422, invalid)
            return None
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


class RateLimiter:
    """Per-key leaky buckets: `burst` requests at once, drained at `per_minute` a minute; off when it is 0.
    Buckets that have drained completely are forgotten once there are MAX_KEYS of them."""

    MAX_KEYS = 10_000

    def __init__(self, per_minute: int, burst: int) -> None:
        self.per_minute = per_minute
        self.burst = max(1, burst)
        self.buckets: dict[str, AsyncLimiter] = {}

    async def check(self, key: str) -> int:
        """0 when the request may go ahead (it is counted), else the seconds to wait before the next one may:
        the time one request takes to drain, which is enough whatever the bucket's level."""
        if self.per_minute <= 0:
            return 0
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) >= self.MAX_KEYS:
                self._prune()
            bucket = self.buckets[key] = AsyncLimiter(self.burst, self.burst * 60 / self.per_minute)
        if not bucket.has_capacity():
            return max(1, math.ceil(60 / self.per_minute))
        await bucket.acquire()  # does not wait: there is capacity, and nothing ran since the check
        return 0

    def _prune(self) -> None:
        for key in [k for k, bucket in self.buckets.items() if bucket.has_capacity(bucket.max_rate)]:
            del self.buckets[key]
