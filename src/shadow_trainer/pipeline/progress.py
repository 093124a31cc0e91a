"""Progress reporting and cancellation polling shared by the pipeline's passes."""

from __future__ import annotations

import time
from collections.abc import Callable

from shadow_trainer.errors import AnalysisCancelled

ProgressFn = Callable[[str, float], None]
CancelFn = Callable[[], bool]

# Overall fraction at which each stage starts (pose inference dominates on every runtime).
STAGE_START = {"loading_model": 0.0, "analyzing": 0.05, "classifying": 0.82, "writing": 0.84, "done": 1.0}
_NEXT_STAGE = {
    "loading_model": "analyzing",
    "analyzing": "classifying",
    "classifying": "writing",
    "writing": "done",
}
_MIN_INTERVAL_S = 0.5


def stage_span(stage: str) -> tuple[float, float]:
    """The overall fractions at which ``stage`` starts and ends."""
    return STAGE_START[stage], STAGE_START[_NEXT_STAGE.get(stage, "done")]


def within_stage(stage: str, fraction: float) -> float:
    """How far (0..1) into ``stage`` an overall ``fraction`` is: what ``Progress.within`` was given."""
    start, end = stage_span(stage)
    return min(max((fraction - start) / (end - start), 0.0), 1.0) if end > start else 1.0


class Progress:
    """Calls ``progress(stage, fraction)`` with a monotonic fraction, at most every 0.5 s per stage."""

    def __init__(self, progress: ProgressFn | None, should_cancel: CancelFn | None) -> None:
        self._progress = progress
        self._should_cancel = should_cancel
        self._fraction = 0.0
        self._stage = ""
        self._last_call = 0.0

    def stage(self, name: str) -> None:
        self._stage = name
        self._emit(STAGE_START[name], force=True)

    def within(self, done: float) -> None:
        """Report ``done`` (0..1) of the current stage, throttled."""
        start, end = stage_span(self._stage)
        self._emit(start + (end - start) * min(max(done, 0.0), 1.0), force=False)

    def _emit(self, fraction: float, *, force: bool) -> None:
        self._fraction = max(self._fraction, fraction)
        now = time.monotonic()
        if self._progress is None or (not force and now - self._last_call < _MIN_INTERVAL_S):
            return
        self._last_call = now
        self._progress(self._stage, round(self._fraction, 4))

    def check_cancel(self) -> None:
        if self._should_cancel is not None and self._should_cancel():
            raise AnalysisCancelled("The analysis was cancelled.")
