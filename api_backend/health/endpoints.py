"""/health/live, /health/ready and /health/detailed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from api_backend.health.checks import (
    CheckResult,
    check_broker,
    check_database,
    check_models,
    check_storage,
    check_workers,
    timed,
)

router = APIRouter(prefix="/health", tags=["health"])

# Dependencies without which this API process cannot serve at all.
READINESS = {"database": check_database, "broker": check_broker}
DETAILED = {**READINESS, "storage": check_storage, "workers": check_workers, "models": check_models}
DEGRADE_ONLY = {"workers", "models"}  # the API still serves history and downloads without them


class HealthOut(BaseModel):
    """`status` overall; `checks`: per dependency its `status`, `latency_ms` and details (or `error`)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "status": "ready",
                    "checks": {
                        "database": {"status": "healthy", "latency_ms": 1.2},
                        "broker": {"status": "healthy", "latency_ms": 0.8},
                    },
                }
            ]
        }
    )

    status: str
    checks: dict[str, dict[str, Any]]


HEALTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": HealthOut, "description": "serving"},
    503: {"model": HealthOut, "description": "a dependency it needs is down (named in `checks`)"},
}


@router.get(
    "/live",
    summary="The process is up (no dependency is checked)",
    responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}},
)
def live() -> dict[str, str]:
    return {"status": "ok"}


def _run(checks: dict[str, Any]) -> dict[str, CheckResult]:
    return {name: timed(check) for name, check in checks.items()}


@router.get("/ready", summary="Database and broker reachable; 503 otherwise", responses=HEALTH_RESPONSES)
async def ready() -> JSONResponse:
    results = await run_in_threadpool(_run, READINESS)
    ok = all(r.status == "healthy" for r in results.values())
    body = {"status": "ready" if ok else "not_ready", "checks": {n: r.as_dict() for n, r in results.items()}}
    return JSONResponse(body, status_code=200 if ok else 503)


def overall(results: dict[str, CheckResult]) -> str:
    if any(r.status == "unhealthy" for n, r in results.items() if n not in DEGRADE_ONLY):
        return "unhealthy"
    if any(r.status != "healthy" for r in results.values()):
        return "degraded"
    return "healthy"


@router.get("/detailed", summary="Every dependency with status and latency", responses=HEALTH_RESPONSES)
async def detailed() -> JSONResponse:
    results = await run_in_threadpool(_run, DETAILED)
    status = overall(results)
    body = {"status": status, "checks": {n: r.as_dict() for n, r in results.items()}}
    return JSONResponse(body, status_code=503 if status == "unhealthy" else 200)
