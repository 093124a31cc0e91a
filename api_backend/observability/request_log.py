"""Pure-ASGI middleware around every request: a request id (X-Request-ID in and out), one JSON
access-log line that carries it, and the request metrics. Pure ASGI (no BaseHTTPMiddleware task
per request) because it sits on every request's hot path."""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api_backend.errors import internal_error_response
from api_backend.observability.api_metrics import IN_FLIGHT, record_request
from api_backend.observability.context import new_request_id, request_id_var

access_log = logging.getLogger("shadow_trainer.access")
QUIET_PATHS = ("/health/live", "/health/ready", "/metrics")  # probes and scrapes: debug level only
QUIET_PREFIXES = ("/assets/",)  # the web app's files: dozens a page load, nothing to learn from


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = new_request_id(incoming)
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        status = 500
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if started:  # mid-body: nothing can be sent any more
                raise
            await internal_error_response(exc)(scope, receive, send_with_id)
        finally:
            IN_FLIGHT.dec()
            seconds = time.perf_counter() - start
            record_request(scope, status, seconds)
            path = scope.get("path", "")
            quiet = path in QUIET_PATHS or path.startswith(QUIET_PREFIXES)
            level = logging.DEBUG if quiet and status < 400 else logging.INFO
            access_log.log(
                level, "%s %s %d", scope.get("method"), path, status,
                extra={"method": scope.get("method"), "path": path, "status": status,
                       "duration_ms": round(seconds * 1000, 2),
                       "client": (scope.get("client") or ("", 0))[0]},
            )  # fmt: skip
            request_id_var.reset(token)
