"""The one shape every error of the staff API has: `{"error", "message", "message_vi"?, "detail"?, "error_id"?}`.

Routes raise `ApiError`; `install_handlers` turns it, FastAPI's validation errors and Starlette's HTTP errors
into that shape, so a client handles every refusal the same way. Validation errors never echo the input back: it
may be large or personal, and a field name the client made up is input too: a field no request of this API has is
reported as "unknown field" at its parent's location, without its name; one that another request has (`status` sent
to PATCH /cases) is named, as "not allowed here".
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from api.schemas import REQUEST_FIELDS, ErrorOut

_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, unknown, revoked or expired API key, or a key sent in the URL",
    403: "The key lacks the scope needed",
    404: "No such case or feedback",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Invalid input (field locations in `detail`)",
    429: "Rate limit exceeded (see Retry-After)",
}


class ApiError(Exception):
    """An error answered as `{"error", "message", "message_vi"?, "detail"?}` with `status`."""

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


def field_error(field: str, msg: str, *, where: str = "body") -> ApiError:
    """422 for one field, located as FastAPI's own validation errors are."""
    return ApiError(
        422, "validation_error", f"{field}: {msg}", detail=[{"loc": [where, field], "msg": msg, "type": "value_error"}]
    )


def nothing_to_update(message: str) -> ApiError:
    return ApiError(
        422, "validation_error", message, detail=[{"loc": ["body"], "msg": "no fields given", "type": "value_error"}]
    )


def error_body(error: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": error, "message": message} | {k: v for k, v in extra.items() if v is not None}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error responses of a route, for the OpenAPI document."""
    return {c: {"model": ErrorOut, "description": _DESCRIPTIONS[c]} for c in codes}


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    """An error answered from plain ASGI code (the guards run before FastAPI's handlers)."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


UNKNOWN_FIELD = "unknown field"
NOT_HERE = "not allowed here"


def clean_errors(errors: Any) -> list[dict[str, Any]]:
    """Validation errors without the offending input: neither the values nor the names of fields this API does not
    know (such a field is located at its parent, once per parent)."""
    out: list[dict[str, Any]] = []
    for err in errors:
        loc = [p if isinstance(p, (str, int)) else str(p) for p in err.get("loc", ())]
        kind = str(err.get("type", "value_error"))
        if kind == "extra_forbidden":  # the last element is the client's own field name
            known = bool(loc) and loc[-1] in REQUEST_FIELDS
            item = {"loc": loc if known else loc[:-1], "msg": NOT_HERE if known else UNKNOWN_FIELD, "type": kind}
            if item not in out:
                out.append(item)
            continue
        out.append({"loc": loc, "msg": str(err.get("msg", "invalid")), "type": kind})
    return out


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        body = error_body(exc.error, exc.message, message_vi=exc.message_vi, detail=exc.detail)
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = clean_errors(exc.errors())
        first = detail[0] if detail else {"loc": [], "msg": "invalid input"}
        where = ".".join(str(p) for p in first["loc"])
        return JSONResponse(error_body("validation_error", f"{where}: {first['msg']}", detail=detail), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=getattr(exc, "headers", None)
        )
