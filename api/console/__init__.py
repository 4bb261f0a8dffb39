"""The staff web console under /console, served by the same application as the staff API (`tthc-bot api`).

Server-rendered Vietnamese pages (Jinja2 templates in templates/, one stylesheet and one small script in static/,
all shipped in the package), plain HTML forms with a CSRF token each. `router` holds every console route;
`api/app.py` includes it. See docs/console.md.
"""

from __future__ import annotations

from fastapi import APIRouter

from api.console import admin, cases, dashboard, exports, feedback, importing, login, questions, static

router = APIRouter()
for module in (login, dashboard, importing, cases, feedback, questions, exports, admin, static):
    router.include_router(module.router)
router.include_router(static.not_found)  # last: any other /console path is the console's own 404 page

__all__ = ["router"]
