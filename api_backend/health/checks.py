"""Each dependency check returns a `CheckResult` with its status and latency; none raises."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import text

from api_backend.celery_app import QUEUES, celery_app
from api_backend.db.engine import get_engine, session_scope
from api_backend.settings import get_settings
from api_backend.storage import get_storage
from api_backend.workers.registry import live_workers, per_queue

Status = Literal["healthy", "degraded", "unhealthy"]


@dataclass
class CheckResult:
    status: Status
    latency_ms: float
    detail: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"status": self.status, "latency_ms": round(self.latency_ms, 2), **self.detail}
        if self.error:
            body["error"] = self.error
        return body


def timed(check: Callable[[], dict[str, Any] | None], *, failure: Status = "unhealthy") -> CheckResult:
    start = time.perf_counter()
    try:
        detail = check() or {}
    except Exception as exc:
        return CheckResult(
            failure, (time.perf_counter() - start) * 1000, error=f"{type(exc).__name__}: {exc}"
        )
    status: Status = detail.pop("_status", "healthy")
    return CheckResult(status, (time.perf_counter() - start) * 1000, detail)


def check_database() -> dict[str, Any]:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"backend": get_engine().dialect.name}


def check_broker() -> dict[str, Any]:
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
        transport = connection.transport_cls
    return {"transport": str(transport)}


def check_storage() -> dict[str, Any]:
    storage = get_storage()
    storage.ping()
    return {"backend": storage.name}


def check_workers() -> dict[str, Any]:
    with session_scope() as session:
        workers = live_workers(session, get_settings().worker_alive_window_s)
    alive = per_queue(workers)
    counts = {queue: alive.get(queue, 0) for queue in QUEUES}
    # No worker at all means nothing will run; a queue without workers is degraded (GPU may be absent).
    status: Status = "healthy"
    if not any(counts.values()):
        status = "unhealthy"
    elif not all(counts.values()):
        status = "degraded"
    listed = [
        {"hostname": w.hostname, "queues": w.queues.split(","), "gpu": w.has_gpu,
         "up_since": w.started_at.isoformat(), "last_seen": w.last_seen.isoformat()}
        for w in sorted(workers, key=lambda w: w.hostname)
    ]  # fmt: skip
    return {"_status": status, "queues": counts, "workers": listed}


def check_models() -> dict[str, Any]:
    from shadow_trainer.pose import available_models

    settings = get_settings()
    models = available_models(settings.model_dir)
    status: Status = "healthy" if settings.default_model in models else "unhealthy"
    return {"_status": status, "available": models, "default": settings.default_model}
