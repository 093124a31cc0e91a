"""One error body everywhere: {"error": {"code": ..., "message": ..., "details": ...}}."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api_backend.domain_errors import (
    BadRequest,
    Conflict,
    DomainError,
    Gone,
    Invalid,
    LimitReached,
    NotFound,
    Unavailable,
)
from api_backend.observability.api_metrics import STORAGE_ERRORS
from api_backend.storage.base import StorageError

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    503: "service_unavailable",
}


# The one place where a kind of refusal of the domain becomes an HTTP status.
DOMAIN_STATUS: dict[type[DomainError], int] = {
    BadRequest: 400,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    Invalid: 422,
    LimitReached: 429,
    Unavailable: 503,
}


class ErrorDetail(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. invalid_video")
    message: str = Field(description="what went wrong, for people")
    details: Any = None


class ErrorOut(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    """An error of the HTTP layer itself (authentication, rate limits, the upload's framing), with
    its status; the services raise `DomainError`s instead."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code, self.code, self.message, self.headers = status_code, code, message, headers
        self.details = details


def error_response(
    status_code: int, code: str, message: str, details: Any = None, headers: Any = None
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status_code, headers=headers)


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, headers=exc.headers)


def domain_status(exc: DomainError) -> int:
    return next(status for kind, status in DOMAIN_STATUS.items() if isinstance(exc, kind))


async def _domain_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers = {"Retry-After": str(exc.retry_after_s)} if exc.retry_after_s is not None else None
    return error_response(domain_status(exc), exc.code, exc.message, exc.details, headers=headers)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


def validation_details(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Pydantic's errors as the API's `details` list: where, what, which rule (no input echoed back)."""
    return [
        {"loc": list(err.get("loc", ())), "msg": err.get("msg", ""), "type": err.get("type", "")}
        for err in errors
    ]


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, "validation_error", "the request is invalid", validation_details(exc.errors()))


async def _database_down(_: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    return error_response(503, "database_unavailable", "the database is unreachable; please retry shortly",
                          headers={"Retry-After": "5"})  # fmt: skip


async def _storage_down(_: Request, exc: Exception) -> JSONResponse:
    log.warning("storage unavailable: %s", exc)
    STORAGE_ERRORS.labels("api").inc()
    return error_response(503, "storage_unavailable", "file storage is unreachable; please retry shortly",
                          headers={"Retry-After": "5"})  # fmt: skip


def internal_error_response(exc: Exception) -> JSONResponse:
    """For an exception no handler took. Sent by the request middleware (not an exception handler,
    which Starlette runs outside every middleware) so that it carries the X-Request-ID."""
    log.exception("unhandled error", exc_info=exc)
    return error_response(500, "internal_error", "unexpected server error; it has been logged")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(StorageError, _storage_down)
