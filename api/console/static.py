"""The console's static files (stylesheet, script, icon), shipped in the package: no CDN, nothing fetched from
elsewhere. Served by name from a fixed list, with a day of caching; any other path under /console gets the
console's own "not found" page rather than the API's JSON."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from api.console.web import PREFIX, ConsoleRoute, NotFound

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}
FILES = {p.name: p for p in STATIC.iterdir() if p.suffix in TYPES}

router = APIRouter(route_class=ConsoleRoute)


@router.get(f"{PREFIX}/static/{{name}}", include_in_schema=False)
async def static(name: str) -> Response:
    path = FILES.get(name)
    if path is None:
        raise NotFound("Không có tệp này.")
    headers = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
    return Response(path.read_bytes(), media_type=TYPES[path.suffix], headers=headers)


not_found = APIRouter(route_class=ConsoleRoute)


@not_found.get(f"{PREFIX}/{{rest:path}}", include_in_schema=False)
async def unknown(rest: str) -> Response:
    raise NotFound("Không có trang này trong bảng điều khiển. Vui lòng kiểm tra lại địa chỉ.")
