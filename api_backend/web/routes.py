"""Pages of the browser app, its static files and the small config endpoint it reads its limits from.

Everything is served by the API process itself: plain HTML + CSS + JavaScript modules, no build step,
no CDN, so the app works offline and behind the same origin as the REST API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from api_backend.deps import SettingsDep
from shadow_trainer.pose import available_models
from shadow_trainer.pose.options import DEFAULT_MODEL, DEVICES

WEB_DIR = Path(__file__).resolve().parent
PAGES_DIR = WEB_DIR / "pages"
STATIC_DIR = WEB_DIR / "static"
ASSETS_PATH = "/assets"

# Pages load only our own scripts and styles; media, stills and JSON may come from S3 (signed URLs).
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: http: https:; "
        "media-src 'self' blob: http: https:; connect-src 'self' http: https:; object-src 'none'; "
        "base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
    ),
}

router = APIRouter(tags=["web"])


class ClientConfig(BaseModel):
    """What the browser app needs to check an upload before sending it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "max_upload_bytes": 2147483648,
                    "resumable_chunk_bytes": 16777216,
                    "default_model": DEFAULT_MODEL,
                    "models": [DEFAULT_MODEL, DEFAULT_MODEL.replace("11n", "11s")],
                    "devices": list(DEVICES),
                }
            ]
        }
    )

    max_upload_bytes: int
    resumable_chunk_bytes: int = Field(description="the largest PATCH body of a resumable (tus) upload")
    default_model: str
    models: list[str]
    devices: list[str]


@router.get("/api/v1/config", response_model=ClientConfig, summary="Limits and options for clients")
def client_config(settings: SettingsDep) -> ClientConfig:
    models = available_models(settings.model_dir)
    if settings.default_model not in models:
        models = [settings.default_model, *models]
    return ClientConfig(
        max_upload_bytes=settings.max_upload_bytes,
        resumable_chunk_bytes=settings.resumable_chunk_bytes,
        default_model=settings.default_model,
        models=models,
        devices=list(DEVICES),
    )


def _page(name: str) -> FileResponse:
    return FileResponse(PAGES_DIR / name, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


@router.get("/", include_in_schema=False)
def upload_page() -> FileResponse:
    return _page("upload.html")


@router.get("/jobs", include_in_schema=False)
def jobs_page() -> FileResponse:
    return _page("jobs.html")


@router.get("/progress", include_in_schema=False)
def progress_page() -> FileResponse:
    return _page("progress.html")


@router.get("/jobs/{job_id}", include_in_schema=False)
def result_page(job_id: str) -> FileResponse:
    # The page reads the id from its own URL and shows "not found" itself when the API says so.
    return _page("result.html")


@router.get("/favicon.ico", include_in_schema=False)
def favicon() -> Response:
    return FileResponse(STATIC_DIR / "icon.svg", media_type="image/svg+xml")


class RevalidatedStaticFiles(StaticFiles):
    """Static files that the browser revalidates (ETag) so a new release is picked up at once."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", "no-cache")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response


def install_web(app: FastAPI) -> None:
    """Add the pages, the config endpoint and the static files to the app."""
    app.include_router(router)
    app.mount(ASSETS_PATH, RevalidatedStaticFiles(directory=STATIC_DIR), name="assets")
