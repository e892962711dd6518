"""The API browser at ``/docs`` (Swagger UI) and ``/redoc``, served from the installed
``fastapi-offline`` package's files instead of a CDN: it works on a machine without internet."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs/assets"
ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")


def assets_directory() -> Path:
    """Where the installed package keeps Swagger UI's and ReDoc's files."""
    return Path(str(files("fastapi_offline") / "static"))


def add_api_browser(app: FastAPI, *, title: str) -> None:
    """Routes for ``/docs``, ``/redoc`` and their assets; create ``app`` with
    ``docs_url=None, redoc_url=None`` so FastAPI's CDN pages are not added too."""
    directory = assets_directory()
    missing = [name for name in ASSETS if not (directory / name).is_file()]
    if missing:  # a fastapi-offline release that moved its files: say so at start, not at /docs
        raise RuntimeError(f"API browser assets missing from {directory}: {', '.join(missing)}")
    app.mount(ASSETS_PATH, StaticFiles(directory=directory), name="api-browser-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{title} — API",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )
