"""Progress and cancellation between a running analysis and the job row.

The engine's `Progress` already reports at most every 0.5 s (and on every stage change), so each
report is written; cancellation is read from the row at most every `cancel_poll_s`.
"""

from __future__ import annotations

import time
import uuid

from api_backend.db.engine import session_scope
from api_backend.jobs import repository


class JobProgress:
    def __init__(self, job_id: uuid.UUID, *, cancel_poll_s: float = 1.0) -> None:
        self.job_id = job_id
        self.cancel_poll_s = cancel_poll_s
        self._last_cancel_check = 0.0
        self._cancelled = False

    def report(self, stage: str, fraction: float) -> None:
        with session_scope() as session:
            repository.update_job(session, self.job_id, stage=stage, progress=min(max(fraction, 0.0), 1.0))

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if not self._cancelled and now - self._last_cancel_check >= self.cancel_poll_s:
            self._last_cancel_check = now
            with session_scope() as session:
                self._cancelled = repository.is_cancel_requested(session, self.job_id)
        return self._cancelled
