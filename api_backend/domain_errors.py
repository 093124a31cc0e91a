"""Refusals the service explains to its client, as types of the domain: what went wrong, not which
HTTP status says so. Services raise them; `errors.py` maps each kind to its status in one table.

Each carries a stable machine-readable `code` (e.g. `too_many_jobs`), a message for people and,
where it helps the client, `details` and `retry_after_s`.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: list[dict[str, Any]] | None = None,
        retry_after_s: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.details, self.retry_after_s = code, message, details, retry_after_s


class NotFound(DomainError):
    """The thing asked for does not exist (or is not the caller's)."""


class Invalid(DomainError):
    """The request is well-formed but cannot be accepted (a video too long, an unknown model)."""


class BadRequest(DomainError):
    """The request itself is malformed (a cursor this API never returned)."""


class Conflict(DomainError):
    """Not in this state: a job that already ended, an upload not finished yet."""


class Gone(DomainError):
    """It existed, but its files were deleted or it expired."""


class LimitReached(DomainError):
    """One of the caller's limits (jobs in flight, open event streams): retry later."""


class Unavailable(DomainError):
    """A service this one needs (the job queue) is down: retry later."""
