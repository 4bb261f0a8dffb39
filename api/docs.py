"""The interactive documentation (/docs, Swagger UI): off unless API_DOCS=true, and then served from this server only.

FastAPI's default /docs page loads Swagger UI's script and style from a CDN, unpinned (`swagger-ui-dist@5`): whoever
controls what that address serves runs script in the page where staff paste their API keys. So /docs and /redoc are
off by default; with API_DOCS=true, /docs serves the files of the `swagger-ui-bundle` package (install it pinned:
`pip install swagger-ui-bundle==1.1.0`, Swagger UI 4.15.5) from /docs/assets, under a Content-Security-Policy that
lets the page load nothing from elsewhere. /openapi.json is always served, without a key: any OpenAPI viewer, an
editor's plugin or `curl` reads it.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from bot.settings import SettingsError

PACKAGE = "swagger-ui-bundle==1.1.0"
ASSETS = "/docs/assets"
POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def assets_dir() -> Path:
    """Where the installed `swagger-ui-bundle` keeps Swagger UI's files."""
    try:
        module = importlib.import_module("swagger_ui_bundle")
    except ImportError:
        raise SettingsError(
            f"API_DOCS=true needs the swagger-ui-bundle package (pip install '{PACKAGE}'); "
            "or set API_DOCS=false and read /openapi.json"
        ) from None
    return Path(str(module.swagger_ui_path))


def mount_docs(app: FastAPI, assets: Path) -> None:
    """/docs and its files from `assets`; nothing from another server."""
    app.mount(ASSETS, StaticFiles(directory=assets), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — docs",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
        page.headers["Content-Security-Policy"] = POLICY
        return page
