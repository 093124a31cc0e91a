"""Prometheus metrics for the API: requests by route template and status, latency, in flight."""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint

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


def route_template(request: Request) -> str:
    # Label by template (/api/v1/jobs/{job_id}), never by raw path, to keep cardinality bounded.
    route = request.scope.get("route")
    return str(getattr(route, "path", None) or "unmatched")


class MetricsMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        method = request.method
        IN_FLIGHT.inc()
        start = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            IN_FLIGHT.dec()
            route = route_template(request)
            LATENCY.labels(method, route).observe(time.perf_counter() - start)
            REQUESTS.labels(method, route, str(status)).inc()


def install_metrics(app: FastAPI) -> None:
    app.add_middleware(MetricsMiddleware)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
