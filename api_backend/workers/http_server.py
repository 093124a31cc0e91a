"""The worker's own small HTTP server: /metrics for Prometheus, /health/live and /health/ready
for Kubernetes probes. Runs in the worker's main process, started once the pool is up."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from api_backend.celery_app import QUEUES
from api_backend.health.checks import check_broker, check_database, timed
from api_backend.observability.worker_metrics import scrape

log = logging.getLogger(__name__)


class WorkerState:
    heartbeat: threading.Thread | None = None


def _live() -> tuple[int, dict[str, Any]]:
    alive = WorkerState.heartbeat is not None and WorkerState.heartbeat.is_alive()
    return (200 if alive else 503), {"status": "ok" if alive else "heartbeat stopped"}


def _ready() -> tuple[int, dict[str, Any]]:
    checks = {"database": timed(check_database), "broker": timed(check_broker)}
    ok = all(c.status == "healthy" for c in checks.values())
    body = {"status": "ready" if ok else "not_ready", "checks": {n: c.as_dict() for n, c in checks.items()}}
    return (200 if ok else 503), body


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/metrics":
            self._send(200, scrape(QUEUES), CONTENT_TYPE_LATEST)
            return
        routes = {"/health/live": _live, "/health/ready": _ready}
        if self.path not in routes:
            self._send(
                404, b'{"error": {"code": "not_found", "message": "no such path"}}', "application/json"
            )
            return
        status, body = routes[self.path]()
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # probes every few seconds: keep logs quiet
        return


def start_server(host: str, port: int) -> ThreadingHTTPServer | None:
    try:
        server = ThreadingHTTPServer((host, port), _Handler)
    except OSError as exc:  # port taken: the worker still works, only unobserved
        log.error("worker metrics/health server not started on %s:%d: %s", host, port, exc)
        return None
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-http", daemon=True).start()
    log.info("worker metrics and health on http://%s:%d", host, port)
    return server
