"""Runs one job inside a worker: claim it, analyse the video, store the outputs, record the end.

Kept free of Celery so the same code path is exercised by the task and by tests.
"""

from __future__ import annotations

import logging
import mimetypes
import socket
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from api_backend.celery_app import GPU_QUEUE
from api_backend.db.base import utcnow
from api_backend.db.engine import session_scope
from api_backend.jobs import repository
from api_backend.jobs.ending import end_job
from api_backend.jobs.figures import session_figures, thumbnail_time
from api_backend.jobs.models import THUMBNAIL_NAME, JobStatus
from api_backend.jobs.progress import JobProgress
from api_backend.jobs.thumbnail import write_thumbnail
from api_backend.jobs.upload import as_the_client_named_it
from api_backend.observability.worker_metrics import (
    JOBS_STARTED,
    record_stages,
)
from api_backend.settings import get_settings
from api_backend.storage import get_storage
from shadow_trainer.errors import AnalysisCancelled, AnalysisError
from shadow_trainer.pipeline.analysis import AnalysisResult, analyze_video

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClaimedJob:
    id: uuid.UUID
    input_key: str
    input_filename: str
    model: str
    queue: str


def output_key(job_id: uuid.UUID, name: str) -> str:
    return f"jobs/{job_id}/outputs/{name}"


def claim(job_id: uuid.UUID, task_id: str | None = None, worker: str | None = None) -> ClaimedJob | None:
    """Mark the job running; None when there is nothing to do (ended, cancelled, unknown, or
    already running under another message).

    `task_id` is the Celery message's id: a job `running` under a different message is a
    duplicate delivery (e.g. the broker redelivering the original message after the maintenance
    task requeued the job with a new one) and is dropped. The same id is the same message
    delivered again (pool child lost, `self.retry()`), which runs. `worker` is the Celery node
    name, matching the heartbeat table, so the maintenance task can tell when that worker died.
    """
    with session_scope() as session:
        job = repository.get_for_update(session, job_id)
        if job is None:
            log.warning("job %s not found; dropping its message", job_id)
            return None
        if job.job_status.is_terminal:
            return None  # e.g. redelivered after it already finished, or cancelled while queued
        if (
            task_id is not None
            and job.status == JobStatus.running.value
            and job.celery_task_id not in (None, task_id)
        ):
            log.warning("job %s already runs under message %s; dropping duplicate %s", job_id,
                        job.celery_task_id, task_id)  # fmt: skip
            return None
        if job.cancel_requested:
            end_job(session, job_id, JobStatus.cancelled, stage="cancelled")
            return None
        job.status = JobStatus.running.value
        job.stage = "starting"
        job.started_at = job.started_at or utcnow()
        job.attempts += 1
        job.worker = worker or socket.gethostname()
        if task_id is not None:
            job.celery_task_id = task_id
        job.error_code = job.error_message = None
        return ClaimedJob(job.id, job.input_key, job.input_filename, job.model, job.queue)


def run_job(job_id: uuid.UUID, task_id: str | None = None, worker: str | None = None) -> None:
    """Run the job to a terminal state. Transient infrastructure errors propagate for a retry."""
    claimed = claim(job_id, task_id, worker)
    if claimed is None:
        return
    JOBS_STARTED.labels(claimed.queue).inc()
    progress = JobProgress(job_id)
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory(prefix=f"job-{job_id}-") as tmp:
            result = _analyse(claimed, Path(tmp), progress)
            progress.report("uploading", 0.99)
            stored = {**result.outputs, **_thumbnail(result, Path(tmp))}
            upload_s = _timed(_store_outputs, claimed.id, stored)
    except AnalysisCancelled:
        _end(claimed, JobStatus.cancelled, stage="cancelled")
        return
    except AnalysisError as exc:
        local = Path("input" + Path(claimed.input_key).suffix)  # the worker's copy, as the engine names it
        message = as_the_client_named_it(exc.message, local, claimed.input_filename)
        _end(claimed, JobStatus.failed, stage="failed", error_code=exc.code, error_message=message)
        return
    stages = {**result.stage_seconds, "uploading": upload_s}
    record_stages(claimed.queue, stages, result.frames_per_second)
    timings = {
        "total_s": round(time.monotonic() - started, 3),
        "stages_s": stages,
        "frames_per_second": result.frames_per_second,
    }
    _end(
        claimed,
        JobStatus.succeeded,
        stage="done",
        progress=1.0,
        output_keys={name: output_key(job_id, name) for name in stored},
        figures=session_figures(result.summary),
        timings=timings,
    )


def _timed(function: Callable[..., object], *args: object) -> float:
    start = time.monotonic()
    function(*args)
    return round(time.monotonic() - start, 4)


def _analyse(job: ClaimedJob, workdir: Path, progress: JobProgress) -> AnalysisResult:
    settings = get_settings()
    storage = get_storage()
    video = storage.local_path(job.input_key)
    if video is None:
        progress.report("downloading", 0.0)
        video = workdir / ("input" + Path(job.input_key).suffix)
        storage.get_file(job.input_key, video)
    return analyze_video(
        video,
        workdir / "outputs",
        model=job.model,
        device="gpu" if job.queue == GPU_QUEUE else "cpu",
        model_dir=settings.model_dir,
        progress=progress.report,
        should_cancel=progress.should_cancel,
        limits=settings.video_limits,
        pose_max_fps=settings.pose_max_fps,
        pose_precision=settings.pose_precision,
        pose_crops=settings.pose_crops,
    )


def _thumbnail(result: AnalysisResult, workdir: Path) -> dict[str, Path]:
    """The job list's still; a job succeeds without one (it is a convenience, not an output)."""
    try:
        at_s = thumbnail_time(result.summary)
        path = write_thumbnail(result.outputs["annotated.mp4"], at_s, workdir / THUMBNAIL_NAME)
    except (OSError, ValueError, av.FFmpegError) as exc:
        log.warning("no thumbnail: %s", exc)
        return {}
    return {THUMBNAIL_NAME: path} if path is not None else {}


def _store_outputs(job_id: uuid.UUID, outputs: dict[str, Path]) -> None:
    storage = get_storage()
    for name, path in outputs.items():
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        storage.put_file(output_key(job_id, name), path, content_type, move=True)


def _finish(
    job_id: uuid.UUID,
    status: JobStatus,
    *,
    from_statuses: tuple[str, ...] = repository.ACTIVE_STATUSES,
    **values: Any,
) -> None:
    """End the job unless it already ended (a duplicate delivery, a cancel that won); it is counted
    and its webhook sent after the commit."""
    with session_scope() as session:
        end_job(session, job_id, status, from_statuses=from_statuses, **values)


def _end(job: ClaimedJob, status: JobStatus, **values: Any) -> None:
    _finish(job.id, status, **values)
    log.info(
        "job %s %s",
        job.id,
        status.value,
        extra={"status": status.value, "error_code": values.get("error_code")},
    )


def fail_job(job_id: uuid.UUID, code: str, message: str, *, only_if_queued: bool = False) -> None:
    """Record a failure that happened outside the analysis (retries exhausted, time limit, no worker);
    ``only_if_queued`` leaves a job alone that a worker started meanwhile."""
    statuses = (JobStatus.queued.value,) if only_if_queued else repository.ACTIVE_STATUSES
    _finish(
        job_id,
        JobStatus.failed,
        from_statuses=statuses,
        stage="failed",
        error_code=code,
        error_message=message,
    )
    log.error("job %s failed: %s: %s", job_id, code, message)
