"""Prometheus metrics for the API: requests by route template and status, latency, in flight."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
IN_FLIGHT = Gauge("http_requests_in_flight", "HTTP requests being served")
JOBS_CREATED = Counter("jobs_created_total", "Jobs accepted", ["queue"])
UPLOAD_BYTES = Counter("upload_bytes_total", "Bytes of video uploaded")
STORAGE_ERRORS = Counter("shadow_storage_errors_total", "Storage operations that failed", ["component"])
STORAGE_ERRORS.labels("api")  # exported at 0 from the start, so alerts see a series


class ServiceStateCollector(Collector):
    """Live workers per queue (from their heartbeats) and free disk space, read at scrape time."""

    def collect(self) -> Iterator[Metric]:
        from api_backend.celery_app import QUEUES
        from api_backend.db.engine import session_scope
        from api_backend.settings import get_settings
        from api_backend.workers.registry import live_workers_per_queue

        settings = get_settings()
        workers = GaugeMetricFamily("shadow_workers", "Workers alive per queue", labels=["queue"])
        try:
            with session_scope() as session:
                per_queue = live_workers_per_queue(session, 3 * settings.worker_heartbeat_s)
            for queue in QUEUES:
                workers.add_metric([queue], per_queue.get(queue, 0))
            yield workers
        except Exception as exc:  # database down: the scrape still succeeds, without this family
            log.warning("workers gauge unavailable: %s", exc)
        if settings.data_dir.exists():
            usage = shutil.disk_usage(settings.data_dir)
            free = GaugeMetricFamily("shadow_data_dir_free_bytes", "Free space where uploads are spooled")
            free.add_metric([], usage.free)
            yield free


REGISTRY.register(ServiceStateCollector())


def route_template(scope: Scope) -> str:
    # Label by template (/api/v1/jobs/{job_id}), never by raw path, to keep cardinality bounded.
    return str(getattr(scope.get("route"), "path", None) or "unmatched")


class MetricsMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware task per request): it sits on every request's hot path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        start = time.perf_counter()

        async def send_and_record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_and_record_status)
        finally:
            IN_FLIGHT.dec()
            route, method = route_template(scope), scope["method"]
            LATENCY.labels(method, route).observe(time.perf_counter() - start)
            REQUESTS.labels(method, route, str(status)).inc()


def install_metrics(app: FastAPI) -> None:
    app.add_middleware(MetricsMiddleware)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
