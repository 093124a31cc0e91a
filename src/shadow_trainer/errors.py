"""Errors the engine raises for bad input or failed analysis.

Every error carries a stable machine-readable ``code`` (used by the service as the job's
``error.code`` and by the CLI as its message prefix) and a human sentence in ``message``.
"""

from __future__ import annotations


class AnalysisError(Exception):
    """An analysis could not be done; ``code`` is stable, ``message`` is for people."""

    code: str = "analysis_failed"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class InvalidVideoError(AnalysisError):
    """The file is not a decodable video (zero bytes, not a container, no video stream, truncated)."""

    code = "invalid_video"


class VideoLimitError(InvalidVideoError):
    """The video is over a configured limit (codes ``video_too_long``, ``resolution_too_high``)."""

    code = "video_too_long"


class ModelNotFoundError(AnalysisError):
    """The requested pose model is not in the model folder and cannot be fetched."""

    code = "model_not_found"


class InvalidKeypointsError(AnalysisError):
    """A keypoints document does not follow the ``keypoints.json`` schema."""

    code = "invalid_keypoints"


class AnalysisCancelled(AnalysisError):
    """The caller asked to stop (job cancelled); partial outputs are discarded."""

    code = "cancelled"
