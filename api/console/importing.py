"""Importing cases from a CSV or XLSX file in the console: upload, a dry-run preview with every row error in a
table (file:row:column), then apply.

The uploaded file is kept under DATA_DIR/console-uploads, named after the session that uploaded it and a random
token, until it is applied (or for a day). The preview is `import_file(..., dry_run=True)`: the whole import done
and rolled back, so it shows exactly what applying will do now; applying is the same call for real, like `tthc-bot
cases import`. A file with errors cannot be applied: the officer fixes it and uploads it again.
"""

from __future__ import annotations

import re
import secrets
import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.exc import IntegrityError

from api.console.auth import Me, Officer, OfficerForm
from api.console.web import PREFIX, ConsoleRoute, Db, Refusal, render, services_of
from bot.accounts import audit
from bot.services import Services
from bot.staff.importing import ImportReport, import_file

router = APIRouter(route_class=ConsoleRoute)
SUFFIXES = {".csv", ".xlsx"}
KEEP_SECONDS = 24 * 3600
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,40}$")
NAME_RE = re.compile(r"[^\w.\- ]+")


def upload_dir(services: Services) -> Path:
    path = Path(services.settings.data_dir) / "console-uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _clean_name(name: str) -> str:
    """The file's own name as the errors quote it, without a path or odd characters."""
    base = Path(name.replace("\\", "/")).name
    return NAME_RE.sub("_", base)[:100] or "tep-nhap"


def _stored(services: Services, me: Me, token: str, suffix: str) -> Path:
    return upload_dir(services) / f"s{me.id}-{token}{suffix}"


def _sweep(directory: Path) -> None:
    """Uploads older than a day are removed (previews nobody applied)."""
    limit = time.time() - KEEP_SECONDS
    for old in directory.iterdir():
        if old.is_file() and old.stat().st_mtime < limit:
            old.unlink(missing_ok=True)


def _page(request: Request, *, report: ImportReport | None = None, status: int = 200, **extra: object) -> Response:
    services = services_of(request)
    context = {
        "title": "Nhập hồ sơ từ tệp",
        "section": "import",
        "report": report,
        "max_bytes": max(1024, services.settings.api_max_body_bytes - 4096),
        **extra,
    }
    return render(request, "import.html", context, status=status)


@router.get(f"{PREFIX}/cases/import", include_in_schema=False)
async def import_page(request: Request, me: Officer) -> Response:
    return _page(request)


@router.post(f"{PREFIX}/cases/import", include_in_schema=False)
async def preview(
    request: Request, me: OfficerForm, db: Db, file: Annotated[UploadFile | None, File()] = None
) -> Response:
    services = services_of(request)
    if file is None or not file.filename:
        return _page(request, status=422, error="Vui lòng chọn một tệp CSV hoặc XLSX.")
    name = _clean_name(file.filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        return _page(request, status=422, error=f"{name}: chỉ nhận tệp .csv hoặc .xlsx.")
    directory = upload_dir(services)
    _sweep(directory)
    token = secrets.token_urlsafe(18)
    path = _stored(services, me, token, suffix)
    path.write_bytes(await file.read())
    # the request's own pending write (the session's last-seen time) is committed first, so that on SQLite the
    # import's transaction never waits for this one's lock
    await db.commit()
    report = await import_file(
        services.engine, path, kb=services.kb, settings=services.settings, name=name, dry_run=True
    )
    if report.errors:
        path.unlink(missing_ok=True)
    return _page(request, report=report, token=token, name=name, suffix=suffix, previewed=True)


@router.post(f"{PREFIX}/cases/import/apply", include_in_schema=False)
async def apply(
    request: Request,
    me: OfficerForm,
    db: Db,
    token: Annotated[str, Form(max_length=60)] = "",
    name: Annotated[str, Form(max_length=120)] = "",
    suffix: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    services = services_of(request)
    path = _stored(services, me, token, suffix) if TOKEN_RE.match(token) and suffix in SUFFIXES else None
    if path is None or not path.is_file():
        raise Refusal(
            "Không tìm thấy tệp đã xem trước (có thể đã được nhập, hoặc đã quá một ngày). Vui lòng tải tệp lên lại."
        )
    shown = _clean_name(name)
    await db.commit()  # as for the preview; the audit entry follows in the request's next transaction
    try:
        report = await import_file(services.engine, path, kb=services.kb, settings=services.settings, name=shown)
    except IntegrityError:
        message = "Trong lúc nhập, hồ sơ trong tệp vừa được nơi khác tạo hoặc sửa; chưa ghi gì. Vui lòng nhập lại."
        return _page(request, status=409, error=message)
    if report.written:
        path.unlink(missing_ok=True)
        after = {
            "file": shown,
            "rows": report.read,
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "status_changes": report.status_changes,
            "notifications": report.notifications,
        }
        await audit.record(db, me.actor, "case.import", f"file:{shown}", after=after)
    return _page(request, report=report, applied=report.written, name=shown)
