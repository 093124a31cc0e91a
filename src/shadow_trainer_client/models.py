"""What the API returns, typed: jobs and errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})


@dataclass(frozen=True)
class JobError:
    code: str
    message: str


@dataclass(frozen=True)
class Job:
    id: str
    status: str
    progress: float
    stage: str
    error: JobError | None
    outputs: dict[str, str]  # output name → signed download link (once succeeded)
    filename: str
    raw: dict[str, Any] = field(repr=False)

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> Job:
        error = body.get("error")
        return cls(
            id=str(body["id"]),
            status=body["status"],
            progress=float(body["progress"]),
            stage=body["stage"],
            error=JobError(error["code"], error["message"]) if error else None,
            outputs=dict(body.get("outputs") or {}),
            filename=body.get("filename", ""),
            raw=body,
        )


class ApiError(Exception):
    """A 4xx/5xx answer, with the API's stable error code (`unknown_model`, `too_many_jobs`…)."""

    def __init__(self, status: int, code: str, message: str, details: list[dict[str, Any]] | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message, self.details = status, code, message, details or []
        self.retry_after: float | None = None

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        try:
            error = response.json()["error"]
            found = cls(response.status_code, error["code"], error["message"], error.get("details"))
        except (ValueError, KeyError, TypeError):
            found = cls(response.status_code, "http_error", response.text[:200] or response.reason_phrase)
        if (retry := response.headers.get("retry-after", "")).isdigit():
            found.retry_after = float(retry)
        return found


class JobFailed(Exception):
    """`submit(..., wait=True)` or `wait()` saw the job end other than `succeeded`."""

    def __init__(self, job: Job) -> None:
        reason = f"{job.error.code}: {job.error.message}" if job.error else job.status
        super().__init__(f"job {job.id} {job.status}: {reason}")
        self.job = job
