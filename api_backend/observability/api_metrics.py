"""Prometheus metrics for the API: requests by route template and status, latency, in flight."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterator

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import Scope

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

    def describe(self) -> Iterator[Metric]:
        """The families, without reading anything: the registry asks at registration (import time),
        and would otherwise run a scrape then, before the process has its settings or database."""
        yield _workers_family()
        yield _free_space_family()

    def collect(self) -> Iterator[Metric]:
        from api_backend.celery_app import QUEUES
        from api_backend.db.engine import session_scope
        from api_backend.settings import get_settings
        from api_backend.workers.registry import live_workers_per_queue

        settings = get_settings()
        workers = _workers_family()
        try:
            with session_scope() as session:
                per_queue = live_workers_per_queue(session, settings.worker_alive_window_s)
            for queue in QUEUES:
                workers.add_metric([queue], per_queue.get(queue, 0))
            yield workers
        except Exception as exc:  # database down: the scrape still succeeds, without this family
            log.warning("workers gauge unavailable: %s", exc)
        if settings.data_dir.exists():
            usage = shutil.disk_usage(settings.data_dir)
            free = _free_space_family()
            free.add_metric([], usage.free)
            yield free


def _workers_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("shadow_workers", "Workers alive per queue", labels=["queue"])


def _free_space_family() -> GaugeMetricFamily:
    return GaugeMetricFamily("shadow_data_dir_free_bytes", "Free space where uploads are spooled")


REGISTRY.register(ServiceStateCollector())


def route_template(scope: Scope) -> str:
    # Label by template (/api/v1/jobs/{job_id}), never by raw path, to keep cardinality bounded.
    return str(getattr(scope.get("route"), "path", None) or "unmatched")


def record_request(scope: Scope, status: int, seconds: float) -> None:
    """Called once per HTTP request by the request middleware (observability.request_log)."""
    route, method = route_template(scope), scope["method"]
    LATENCY.labels(method, route).observe(seconds)
    REQUESTS.labels(method, route, str(status)).inc()


def install_metrics(app: FastAPI) -> None:

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
