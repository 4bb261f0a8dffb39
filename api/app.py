"""The staff HTTP API (`tthc-bot api`): cases, their status, feedback, surveys and statistics.

`create_app(settings, kb, engine)` builds the application; nothing happens at import time. Every
request but /api/v1/health needs an API key (`tthc-bot apikey create NAME --scope ...`) sent as
`Authorization: Bearer <key>` or `X-API-Key: <key>`. Writes happen in one transaction per request
(`session_scope`): a refused request writes nothing. See docs/api.md.

Guards, outermost first:
- `_Guard` (pure ASGI): any unexpected exception becomes a 500 with an error id (logged with its
  traceback, never sent); bodies over API_MAX_BODY_BYTES get 413 before any work is done; a JSON
  body that cannot be decoded (bad syntax, not UTF-8, nested too deeply, huge numbers) gets 422;
- authentication and a per-key token bucket (API_RATE_LIMIT per minute, API_RATE_BURST at once;
  failed authentication is limited per client address) answering 429 with Retry-After;
- pydantic models: wrong types, unknown fields, control characters, out-of-range values get 422
  with the field's location.
"""

import datetime as dt
import json
import logging
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.schemas import (
    ApiDate,
    CaseCreate,
    CasePublic,
    CaseUpdate,
    ErrorOut,
    EventPublic,
    FeedbackCategory,
    FeedbackPage,
    FeedbackPublic,
    FeedbackState,
    FeedbackUpdate,
    Health,
    Stats,
    StatusChange,
    StatusChangeResult,
    SurveyPage,
    SurveyPublic,
)
from bot.cases.rules import STATUSES, CaseError, NewCase, Problem, create_case, describe, describe_vi, history
from bot.feedback.tickets import CATEGORIES, STATES, tracking_code
from bot.insights import stats as stats_mod
from bot.privacy.hashing import mask_name, phone_hmac, phone_last4
from bot.settings import Settings
from bot.staff import apikeys
from bot.staff.status import change_case_status
from bot.storage.db import session_scope
from bot.storage.models import Case, CaseEvent, Feedback, SurveyResponse, utcnow
from knowledge.codes import CODE_RE, normalize_code
from knowledge.loader import KnowledgeBase

log = logging.getLogger("api.app")

PREFIX = "/api/v1"
EXAMPLE_CODE = "000.00.15.H57-261114-0001"
_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_DIGITS = re.compile(r"\+?\d[\d .\-]{5,}\d")


# --- errors -----------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answered as `{"error", "message", "message_vi"?, "detail"?}`."""

    def __init__(
        self,
        status: int,
        error: str,
        message: str,
        *,
        message_vi: str | None = None,
        detail: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.error, self.message = status, error, message
        self.message_vi, self.detail, self.headers = message_vi, detail, headers


def _field_error(field: str, msg: str) -> ApiError:
    return ApiError(
        422, "validation_error", f"{field}: {msg}", detail=[{"loc": ["body", field], "msg": msg, "type": "value_error"}]
    )


def _error_body(error: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "message": message} | {k: v for k, v in extra.items() if v is not None}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    text_ = {
        400: "Bad request",
        401: "Missing, unknown or revoked API key",
        403: "The key lacks the scope needed",
        404: "No such case or feedback",
        409: "Conflict with the current state",
        413: "Request body too large",
        422: "Invalid input (field locations in `detail`)",
        429: "Rate limit exceeded (see Retry-After)",
    }
    return {c: {"model": ErrorOut, "description": text_[c]} for c in codes}


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def _is_json(content_type: str) -> bool:
    main = content_type.split(";", 1)[0].strip().lower()
    return main == "application/json" or (main.startswith("application/") and main.endswith("+json"))


class _Guard:
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

        try:
            replay = await self._read_body(scope, receive, tracking_send)
            if replay is not None:
                await self.app(scope, replay, tracking_send)
        except Exception:
            error_id = uuid.uuid4().hex[:12]
            log.exception("unexpected error %s on %s %s", error_id, scope.get("method"), scope.get("path"))
            if started:
                raise
            await _send_json(
                send,
                500,
                _error_body(
                    "internal_error",
                    "Unexpected error; nothing was changed. Quote the error id when reporting it.",
                    error_id=error_id,
                ),
                {"x-error-id": error_id},
            )

    async def _read_body(self, scope: Scope, receive: Receive, send: Send) -> Receive | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        too_large = _error_body("body_too_large", f"The request body is larger than {self.max_body} bytes.")
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            await _send_json(send, 413, too_large, {"connection": "close"})
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
                await _send_json(send, 413, too_large, {"connection": "close"})
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and _is_json(headers.get("content-type", "")):
            problem = _undecodable(body)
            if problem is not None:
                await _send_json(
                    send, 422, _error_body("validation_error", f"invalid JSON: {problem['msg']}", detail=[problem])
                )
                return None
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return replay


def _undecodable(body: bytes) -> dict[str, Any] | None:
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


def _clean_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors without the offending input (it may be large or personal)."""
    out = []
    for err in errors:
        loc = [p if isinstance(p, (str, int)) else str(p) for p in err.get("loc", ())]
        out.append({"loc": loc, "msg": str(err.get("msg", "invalid")), "type": str(err.get("type", "value_error"))})
    return out


# --- rate limiting ----------------------------------------------------------------------------


class TokenBucket:
    """Per-key token buckets in memory: `burst` requests at once, refilled at `per_minute` a minute.
    One process, one set of buckets (several workers each limit on their own)."""

    MAX_KEYS = 10_000

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        if self.rate <= 0:
            return 0.0
        now = self.clock()
        tokens, last = self.buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1:
            self.buckets[key] = (tokens - 1, now)
            if len(self.buckets) > self.MAX_KEYS:
                self._prune(now)
            return 0.0
        self.buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        full = [k for k, (t, last) in self.buckets.items() if t + (now - last) * self.rate >= self.burst]
        for k in full:
            del self.buckets[k]


# --- authentication ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    id: int
    name: str
    scopes: frozenset[str]

    @property
    def pii(self) -> bool:
        return "pii" in self.scopes

    @property
    def source(self) -> str:
        return f"api:{self.name}"[:40]


_bearer = HTTPBearer(auto_error=False, scheme_name="bearer", description="`Authorization: Bearer <key>`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, scheme_name="apiKeyHeader", description="`X-API-Key: <key>`")


# --- views ------------------------------------------------------------------------------------


def mask_text(value: str) -> str:
    """Phone numbers and e-mail addresses masked; receipt codes kept (staff need them)."""
    out, last = [], 0
    for m in CODE_RE.finditer(value):
        out.append(_DIGITS.sub("<số>", _EMAIL.sub("<email>", value[last : m.start()])))
        out.append(m.group(0))
        last = m.end()
    out.append(_DIGITS.sub("<số>", _EMAIL.sub("<email>", value[last:])))
    return "".join(out)


def case_public(case: Case, kb: KnowledgeBase, *, pii: bool) -> CasePublic:
    proc = kb.get(case.procedure_id)
    return CasePublic(
        code=case.display_code,
        procedure_id=case.procedure_id,
        procedure_name=proc.name if proc else case.procedure_id,
        agency=case.agency,
        office=case.office,
        applicant_name=case.applicant_name if pii else mask_name(case.applicant_name),
        personal_data="full" if pii else "masked",
        phone_on_file=case.phone_hmac is not None,
        phone_last4=case.phone_last4 if pii else None,
        birth_year=case.birth_year if pii else None,
        received_at=case.received_at,
        appointment_date=case.appointment_date,
        new_appointment_date=case.new_appointment_date,
        due_date=case.new_appointment_date or case.appointment_date,
        channel=case.channel,
        return_method=case.return_method,
        status=case.status,
        status_label=STATUSES.get(case.status, case.status),
        status_note=case.status_note,
        missing_documents=list(case.missing_documents or []),
        fee=case.fee,
        closed_at=case.closed_at,
        created_at=case.created_at,
        updated_at=case.updated_at,
    )


def event_public(event: CaseEvent) -> EventPublic:
    return EventPublic(
        status=event.status,
        status_label=STATUSES.get(event.status, event.status),
        note=event.note,
        source=event.source,
        at=event.at,
    )


def feedback_public(fb: Feedback, *, pii: bool) -> FeedbackPublic:
    return FeedbackPublic(
        tracking_no=fb.tracking_no,
        category=fb.category,
        category_label=CATEGORIES.get(fb.category, fb.category),
        text=fb.text if pii else mask_text(fb.text),
        case_code=fb.case_code,
        status=fb.status,
        status_label=STATES.get(fb.status, fb.status),
        reply=fb.reply,
        chat_id=fb.chat_id if pii else None,
        created_at=fb.created_at,
    )


def survey_public(resp: SurveyResponse, case_code: str | None, kb: KnowledgeBase, *, pii: bool) -> SurveyPublic:
    scores = {k: v for k, v in (resp.scores or {}).items() if isinstance(v, int)}
    proc = kb.get(resp.procedure_id) if resp.procedure_id else None
    comment = resp.comment if (pii or resp.comment is None) else mask_text(resp.comment)
    return SurveyPublic(
        id=resp.id or 0,
        procedure_id=resp.procedure_id,
        procedure_name=proc.name if proc else None,
        agency=resp.agency,
        case_code=case_code,
        scores=scores,
        average=round(sum(scores.values()) / len(scores), 2) if scores else None,
        comment=comment,
        created_at=resp.created_at,
    )


# --- the application --------------------------------------------------------------------------

DESCRIPTION = f"""
Staff API of tthc-bot: receive cases, change their status (the citizens following a case are
notified by the bot), read feedback and survey results, statistics.

**Authentication**: every endpoint but `/api/v1/health` needs an API key, created with
`tthc-bot apikey create NAME --scope read [--scope write] [--scope pii]` and sent as
`Authorization: Bearer <key>` or `X-API-Key: <key>`. Scopes: `read` (read, personal data masked),
`write` (create, update, change status, answer feedback), `pii` (full personal data).

**Limits**: request bodies up to API_MAX_BODY_BYTES (default 64 KiB, else 413); per key
API_RATE_LIMIT requests a minute with bursts of API_RATE_BURST (else 429 with Retry-After).

**Errors**: `{{"error": code, "message": English, "message_vi": Vietnamese?, "detail": [{{loc, msg, type}}]?}}`.
Receipt codes in paths accept any separators (`{EXAMPLE_CODE}`, `0000015H572611140001`).
"""

TAGS = [
    {"name": "cases", "description": "Cases (hồ sơ) by receipt code: create, update, status changes, history."},
    {"name": "feedback", "description": "Feedback (góp ý, phản ánh) sent through the bot, and staff replies."},
    {"name": "surveys", "description": "Satisfaction survey responses (six criteria, 1–5)."},
    {"name": "statistics", "description": "Cases by status, on-time rates, satisfaction per criterion."},
    {"name": "system", "description": "Health check (no authentication)."},
]


def create_app(settings: Settings, kb: KnowledgeBase, engine: AsyncEngine) -> FastAPI:
    """The API application on `engine`; the caller owns (and disposes of) the engine."""
    app = FastAPI(
        title="tthc-bot staff API",
        version="1.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url="/docs",
        redoc_url="/redoc",
        openapi_url="/openapi.json",
    )
    app.add_middleware(_Guard, max_body=settings.api_max_body_bytes)
    limiter = TokenBucket(settings.api_rate_limit, settings.api_rate_burst)
    app.state.limiter = limiter

    # --- error handlers ---

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        body = _error_body(exc.error, exc.message, message_vi=exc.message_vi, detail=exc.detail)
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = _clean_errors(exc.errors())
        first = detail[0] if detail else {"loc": [], "msg": "invalid input"}
        where = ".".join(str(p) for p in first["loc"])
        return JSONResponse(_error_body("validation_error", f"{where}: {first['msg']}", detail=detail), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            _error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )

    # --- auth ---

    def _limit(key: str) -> None:
        wait = limiter.take(key)
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise ApiError(
                429,
                "rate_limited",
                f"Too many requests; retry in {seconds} s.",
                message_vi=f"Quá nhiều yêu cầu; thử lại sau {seconds} giây.",
                headers={"Retry-After": str(seconds)},
            )

    async def authenticate(
        request: Request,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
        header_key: Annotated[str | None, Depends(_header)],
    ) -> Principal:
        token = bearer.credentials if bearer else header_key
        client = request.client.host if request.client else "unknown"
        challenge = {"WWW-Authenticate": "Bearer"}
        if not token:
            _limit(f"ip:{client}")
            raise ApiError(
                401,
                "missing_api_key",
                "An API key is needed: send `Authorization: Bearer <key>` or `X-API-Key: <key>`.",
                headers=challenge,
            )
        async with session_scope(engine) as s:
            key = await apikeys.verify(s, token.strip())
        if key is None:
            _limit(f"ip:{client}")
            raise ApiError(401, "invalid_api_key", "Unknown or revoked API key.", headers=challenge)
        _limit(f"key:{key.id}")
        return Principal(id=key.id or 0, name=key.name, scopes=frozenset(key.scopes or []))

    def require(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
        async def check(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
            if scope not in principal.scopes:
                raise ApiError(
                    403,
                    "insufficient_scope",
                    f"This API key lacks the {scope!r} scope.",
                    message_vi=f"Khóa API này không có quyền {scope!r}.",
                )
            return principal

        return check

    Reader = Annotated[Principal, Depends(require("read"))]
    Writer = Annotated[Principal, Depends(require("write"))]
    CodePath = Annotated[str, Path(description=f"Receipt code, any separators, e.g. {EXAMPLE_CODE}", max_length=100)]

    # --- helpers ---

    async def load_case(s: AsyncSession, code: str, *, lock: bool = False) -> Case:
        key = normalize_code(code)
        if key is None:
            raise ApiError(
                404,
                "case_not_found",
                f"{code!r} is not a receipt code (e.g. {EXAMPLE_CODE}).",
                message_vi=f"{code!r} không phải là mã hồ sơ.",
            )
        stmt = select(Case).where(Case.code == key)
        if lock:
            stmt = stmt.with_for_update()
        case = (await s.exec(stmt)).first()
        if case is None:
            raise ApiError(
                404, "case_not_found", f"No case with code {code!r}.", message_vi=f"Không có hồ sơ mã {code!r}."
            )
        return case

    def check_procedure(procedure_id: str) -> None:
        if kb.get(procedure_id) is None:
            raise _field_error("procedure_id", f"unknown procedure {procedure_id!r}; see `tthc-bot kb export`")

    def local_aware(value: dt.datetime) -> dt.datetime:
        return value if value.tzinfo else value.replace(tzinfo=settings.tz)

    # --- cases ---

    @app.post(
        f"{PREFIX}/cases",
        tags=["cases"],
        status_code=201,
        response_model=CasePublic,
        summary="Create a case",
        responses=_errors(401, 403, 409, 413, 422, 429),
    )
    async def create_case_endpoint(body: CaseCreate, principal: Writer, response: Response) -> CasePublic:
        """Create a case from its appointment slip; its history starts with `received`.
        409 when a case with the same code (in any spelling) exists. Needs `write`."""
        check_procedure(body.procedure_id)
        received = local_aware(body.received_at).astimezone(dt.UTC) if body.received_at else utcnow()
        if body.appointment_date < received.astimezone(settings.tz).date():
            raise _field_error("appointment_date", "is before the day the case was received")
        duplicate = ApiError(
            409,
            "duplicate_case",
            f"A case with code {body.code!r} already exists.",
            message_vi=f"Đã có hồ sơ mã {body.code!r}.",
        )
        try:
            async with session_scope(engine) as s:
                if (await s.exec(select(Case.id).where(Case.code == normalize_code(body.code)))).first():
                    raise duplicate
                case = await create_case(
                    session=s,
                    secret=settings.secret_key.get_secret_value(),
                    source=principal.source,
                    new=NewCase(
                        code=body.code,
                        procedure_id=body.procedure_id,
                        agency=body.agency,
                        applicant_name=body.applicant_name,
                        phone=body.phone,
                        received_at=received,
                        appointment_date=body.appointment_date,
                        office=body.office,
                        birth_year=body.birth_year,
                        channel=body.channel,
                        return_method=body.return_method,
                        fee=body.fee,
                    ),
                )
                out = case_public(case, kb, pii=principal.pii)
        except IntegrityError:  # created concurrently by another request
            raise duplicate from None
        except CaseError as exc:
            raise _field_error("code", str(exc)) from None
        response.headers["Location"] = f"{PREFIX}/cases/{case.code}"
        return out

    @app.get(
        f"{PREFIX}/cases/{{code}}",
        tags=["cases"],
        response_model=CasePublic,
        summary="Read a case",
        responses=_errors(401, 403, 404, 429),
    )
    async def read_case(code: CodePath, principal: Reader) -> CasePublic:
        """A case by receipt code. Personal data masked unless the key has `pii`. Needs `read`."""
        async with session_scope(engine) as s:
            return case_public(await load_case(s, code), kb, pii=principal.pii)

    @app.patch(
        f"{PREFIX}/cases/{{code}}",
        tags=["cases"],
        response_model=CasePublic,
        summary="Update a case",
        responses=_errors(401, 403, 404, 413, 422, 429),
    )
    async def update_case(code: CodePath, body: CaseUpdate, principal: Writer) -> CasePublic:
        """Change a case's details (not its status: use POST .../status). Omitted fields are kept,
        `null` clears an optional field. Needs `write`."""
        changes = body.model_dump(exclude_unset=True)
        if not changes:
            raise ApiError(
                422,
                "validation_error",
                "Nothing to update: give at least one field.",
                detail=[{"loc": ["body"], "msg": "no fields given", "type": "value_error"}],
            )
        if "procedure_id" in changes:
            check_procedure(changes["procedure_id"])
        async with session_scope(engine) as s:
            case = await load_case(s, code, lock=True)
            if (
                "appointment_date" in changes
                and changes["appointment_date"] < case.received_at.astimezone(settings.tz).date()
            ):
                raise _field_error("appointment_date", "is before the day the case was received")
            if "phone" in changes:
                phone = changes.pop("phone")
                case.phone_hmac = phone_hmac(phone, settings.secret_key.get_secret_value()) if phone else None
                case.phone_last4 = phone_last4(phone) if phone else None
            for field, value in changes.items():
                setattr(case, field, value)
            case.updated_at = utcnow()
            s.add(case)
            await s.flush()
            return case_public(case, kb, pii=principal.pii)

    @app.post(
        f"{PREFIX}/cases/{{code}}/status",
        tags=["cases"],
        response_model=StatusChangeResult,
        summary="Change a case's status",
        responses=_errors(401, 403, 404, 409, 413, 422, 429),
    )
    async def post_status(code: CodePath, body: StatusChange, principal: Writer) -> StatusChangeResult:
        """Move a case to a new status with an optional note: writes the history row and queues the
        bot's message to every chat following the case, in one transaction. 404 for an unknown code,
        409 for a transition the case's current status does not allow, 422 when the status needs a
        `new_date` (overdue), a `note` (rejected) or `missing_documents` (need_supplement); in every
        refused case nothing is written. Needs `write`."""
        async with session_scope(engine) as s:
            await load_case(s, code, lock=True)
            try:
                changed = await change_case_status(
                    s,
                    code,
                    status=body.status,
                    kb=kb,
                    settings=settings,
                    note=body.note,
                    new_date=body.new_date,
                    missing=body.missing_documents,
                    source=principal.source,
                )
            except CaseError as exc:
                raise status_refused(exc.problems[0]) from None
            case, event = changed.case, changed.event
            return StatusChangeResult(case=case_public(case, kb, pii=principal.pii), event=event_public(event))

    @app.get(
        f"{PREFIX}/cases/{{code}}/history",
        tags=["cases"],
        response_model=list[EventPublic],
        summary="A case's status history",
        responses=_errors(401, 403, 404, 429),
    )
    async def case_history(code: CodePath, principal: Reader) -> list[EventPublic]:
        """Every status the case went through, oldest first, with notes and who made the change. Needs `read`."""
        async with session_scope(engine) as s:
            case = await load_case(s, code)
            return [event_public(e) for e in await history(s, case)]

    # --- feedback ---

    Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
    Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip")]

    @app.get(
        f"{PREFIX}/feedback",
        tags=["feedback"],
        response_model=FeedbackPage,
        summary="List feedback",
        responses=_errors(401, 403, 422, 429),
    )
    async def list_feedback(
        principal: Reader,
        status: Annotated[FeedbackState | None, Query()] = None,
        category: Annotated[FeedbackCategory | None, Query()] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> FeedbackPage:
        """Feedback sent through the bot, newest first, optionally by status and category. Phone
        numbers and e-mail addresses in the text are masked and chat ids left out unless the key has
        `pii`. Needs `read`."""
        where = [
            c
            for c in (
                Feedback.status == status if status else None,
                Feedback.category == category if category else None,
            )
            if c is not None
        ]
        async with session_scope(engine) as s:
            total = (await s.exec(select(func.count()).select_from(Feedback).where(*where))).one()
            rows = (
                await s.exec(
                    select(Feedback)
                    .where(*where)
                    .order_by(
                        Feedback.created_at.desc(),  # type: ignore[attr-defined]
                        Feedback.id.desc(),
                    )  # type: ignore[union-attr]
                    .offset(offset)
                    .limit(limit)
                )
            ).all()
        return FeedbackPage(
            total=total, limit=limit, offset=offset, items=[feedback_public(f, pii=principal.pii) for f in rows]
        )

    @app.patch(
        f"{PREFIX}/feedback/{{tracking_no}}",
        tags=["feedback"],
        response_model=FeedbackPublic,
        summary="Answer feedback",
        responses=_errors(401, 403, 404, 413, 422, 429),
    )
    async def answer_feedback(
        tracking_no: Annotated[str, Path(max_length=40, description="e.g. GY-1A2B3C")],
        body: FeedbackUpdate,
        principal: Writer,
    ) -> FeedbackPublic:
        """Set a feedback's status and/or reply; a reply without a status marks it `answered`. The
        citizen reads the reply with `/gopy <tracking no>` in the bot. Needs `write`."""
        changes = body.model_dump(exclude_unset=True)
        if not changes:
            raise ApiError(
                422,
                "validation_error",
                "Nothing to update: give a status or a reply.",
                detail=[{"loc": ["body"], "msg": "no fields given", "type": "value_error"}],
            )
        if changes.get("status", "x") is None:
            raise _field_error("status", "cannot be null")
        async with session_scope(engine) as s:
            fb = (
                await s.exec(
                    select(Feedback).where(Feedback.tracking_no == tracking_code(tracking_no)).with_for_update()
                )
            ).first()
            if fb is None:
                raise ApiError(
                    404,
                    "feedback_not_found",
                    f"No feedback with tracking number {tracking_no!r}.",
                    message_vi=f"Không có góp ý số {tracking_no!r}.",
                )
            if "reply" in changes:
                fb.reply = changes["reply"]
            if "status" in changes:
                fb.status = changes["status"]
            elif changes.get("reply") and fb.status in {"received", "processing"}:
                fb.status = "answered"
            s.add(fb)
            await s.flush()
            return feedback_public(fb, pii=principal.pii)

    # --- surveys and statistics ---

    @app.get(
        f"{PREFIX}/surveys",
        tags=["surveys"],
        response_model=SurveyPage,
        summary="List survey responses",
        responses=_errors(401, 403, 422, 429),
    )
    async def list_surveys(
        principal: Reader,
        procedure_id: Annotated[str | None, Query(max_length=100)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SurveyPage:
        """Satisfaction survey responses, newest first, optionally for one procedure: the six scores
        (1–5), their average and the comment. Needs `read`."""
        where = [SurveyResponse.procedure_id == procedure_id] if procedure_id else []
        async with session_scope(engine) as s:
            total = (await s.exec(select(func.count()).select_from(SurveyResponse).where(*where))).one()
            stmt = (
                select(SurveyResponse, Case.display_code)
                .outerjoin(Case, Case.id == SurveyResponse.case_id)  # type: ignore[arg-type]
                .where(*where)
                .order_by(SurveyResponse.created_at.desc(), SurveyResponse.id.desc())  # type: ignore[attr-defined,union-attr]
                .offset(offset)
                .limit(limit)
            )
            rows = (await s.exec(stmt)).all()
        return SurveyPage(
            total=total, limit=limit, offset=offset, items=[survey_public(r, c, kb, pii=principal.pii) for r, c in rows]
        )

    @app.get(
        f"{PREFIX}/stats",
        tags=["statistics"],
        response_model=Stats,
        summary="Statistics",
        responses=_errors(401, 403, 422, 429),
    )
    async def statistics(
        principal: Reader,
        since: Annotated[ApiDate | None, Query(description="First day (local), inclusive")] = None,
        until: Annotated[ApiDate | None, Query(description="Last day (local), inclusive")] = None,
    ) -> Stats:
        """Cases by status (received in the period); on-time rate overall, per procedure and per
        agency (cases closed with a result in the period: ready on or before the due date, which is
        the new appointment date when one was set; `rate_original` against the original date);
        satisfaction average per criterion; feedback by status. Needs `read`."""
        if since and until and since > until:
            raise ApiError(
                422,
                "validation_error",
                "since is after until",
                detail=[{"loc": ["query", "since"], "msg": "is after until", "type": "value_error"}],
            )
        async with session_scope(engine) as s:
            data = await stats_mod.compute(s, kb=kb, tz=settings.tz, since=since, until=until)
        return Stats.model_validate(data)

    @app.get(
        f"{PREFIX}/health",
        tags=["system"],
        response_model=Health,
        summary="Health check",
        responses={503: {"model": Health, "description": "The database is unreachable"}},
    )
    async def health() -> JSONResponse:
        """`ok` when the database answers. No authentication."""
        try:
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - report, do not crash
            log.warning("health check: database unreachable (%s)", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "error"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return app


API_FIELDS = {"status": "status", "new_date": "new_date", "note": "note", "missing": "missing_documents"}


def status_refused(problem: Problem) -> ApiError:
    """A refusal of the rules table in the API's terms: 409 for a transition the case's status does not allow,
    422 naming the JSON field for a missing requirement."""
    if problem.code == "not_allowed":
        allowed = ", ".join(problem.allowed) or "none (the case is closed)"
        message = f"A case in status {problem.current!r} cannot move to {problem.status!r}; allowed: {allowed}."
        return ApiError(409, "invalid_transition", message, message_vi=describe_vi(problem))
    name = API_FIELDS[problem.field]
    message = f"{name}: {describe(problem, API_FIELDS)}"
    return ApiError(
        422,
        "status_requirements",
        message,
        message_vi=describe_vi(problem),
        detail=[{"loc": ["body", name], "msg": describe(problem, API_FIELDS), "type": "value_error"}],
    )
