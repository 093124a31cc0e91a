"""The FastAPI application."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from api_backend.auth.limiter import get_rate_limits
from api_backend.errors import install_error_handlers
from api_backend.health.endpoints import router as health_router
from api_backend.jobs.endpoints import downloads_router, sessions_router
from api_backend.jobs.endpoints import router as jobs_router
from api_backend.jobs.events import get_stream_slots
from api_backend.maintenance.service import sweep_upload_tmp
from api_backend.observability.api_metrics import install_metrics
from api_backend.observability.logs import configure_logging
from api_backend.observability.request_log import RequestContextMiddleware
from api_backend.openapi_docs import install_openapi
from api_backend.settings import get_settings
from api_backend.storage import get_storage
from api_backend.storage.s3 import S3Storage
from api_backend.uploads.endpoints import include_upload_routes
from api_backend.web.routes import install_web

log = logging.getLogger(__name__)

# Read by cross-origin clients: the job's address, ETags, and what a tus client needs to resume.
EXPOSED_HEADERS = [
    *("Location", "ETag", "Retry-After", "X-Request-ID"),
    *("Upload-Offset", "Upload-Length", "Upload-Expires", "Tus-Resumable", "Tus-Version", "Tus-Extension"),
]


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)  # after uvicorn set up its own
    # Partial uploads of a previous run of this process (killed mid-upload) are never finished.
    swept = await run_in_threadpool(sweep_upload_tmp, settings.upload_tmp_dir)
    if swept:
        log.info("removed %d abandoned partial uploads", swept)
    # Built here, before requests run in threads: concurrent first builds race (lru_cache does not
    # lock), and `limits`' RedisStorage then fails its dependency check (500s on a fresh server).
    get_rate_limits()
    get_stream_slots()
    storage = get_storage()
    if isinstance(storage, S3Storage):
        try:
            storage.ensure_bucket()
        except Exception as exc:  # S3 down at start: serve anyway, /health/detailed shows it
            log.warning("could not ensure bucket %s: %s", storage.bucket, exc)
    yield


def create_app() -> FastAPI:
    settings = get_settings()
    # FastAPIOffline serves Swagger UI's and ReDoc's files itself: /docs and /redoc work offline.
    app = FastAPIOffline(
        title="Shadow Trainer",
        version="0.1.0",
        description="Upload boxing videos; get pose keypoints, punches, a summary and an annotated video.",
        lifespan=lifespan,
        # Operation ids a generated client can use as method names: `create_job`, `get_job`…
        generate_unique_id_function=lambda route: route.name,
    )
    install_error_handlers(app)
    install_metrics(app)
    if settings.allowed_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins, allow_methods=["*"],
                           allow_headers=["*"], expose_headers=EXPOSED_HEADERS)  # fmt: skip
    app.add_middleware(RequestContextMiddleware)  # outermost: ids exist before anything logs
    app.include_router(jobs_router)
    app.include_router(downloads_router)
    app.include_router(sessions_router)
    include_upload_routes(app)
    app.include_router(health_router)
    install_web(app)
    install_openapi(app)
    return app


app = create_app()
