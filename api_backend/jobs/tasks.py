"""Celery tasks for jobs. Transient failures (storage, database, broker hiccups) are retried
with exponential backoff; anything about the video itself fails the job with a clear code."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

from api_backend.celery_app import celery_app
from api_backend.jobs.runner import fail_job, run_job
from api_backend.observability.context import job_id_var, request_id_var
from api_backend.observability.worker_metrics import TRANSIENT_RETRIES
from api_backend.settings import get_settings
from api_backend.storage import StorageError

log = logging.getLogger(__name__)

TRANSIENT_ERRORS = (StorageError, OperationalError, ConnectionError, TimeoutError)
ANALYZE_TASK = "shadow_trainer.analyze_job"


@celery_app.task(bind=True, name=ANALYZE_TASK, max_retries=None)
def analyze_job(self: Task, job_id: str, request_id: str | None = None) -> None:
    with job_context(job_id, request_id):
        _analyze(self, job_id)


@contextmanager
def job_context(job_id: str, request_id: str | None) -> Iterator[None]:
    """Every log line of this job carries its id and the id of the request that created it."""
    job_token, request_token = job_id_var.set(job_id), request_id_var.set(request_id)
    try:
        yield
    finally:
        job_id_var.reset(job_token)
        request_id_var.reset(request_token)


def _analyze(self: Task, job_id: str) -> None:
    settings = get_settings()
    job_uuid = uuid.UUID(job_id)
    try:
        run_job(job_uuid, self.request.id, self.request.hostname)
    except SoftTimeLimitExceeded:
        fail_job(
            job_uuid, "time_limit_exceeded", f"analysis took longer than {settings.job_soft_time_limit_s} s"
        )
    except TRANSIENT_ERRORS as exc:
        queue = (self.request.delivery_info or {}).get("routing_key") or "unknown"
        kind = (
            "storage"
            if isinstance(exc, StorageError)
            else "database"
            if isinstance(exc, OperationalError)
            else "network"
        )
        TRANSIENT_RETRIES.labels(queue, kind).inc()
        retries = self.request.retries
        if retries >= settings.job_max_retries:
            log.exception("job %s: giving up after %d retries", job_id, retries)
            fail_job(job_uuid, "transient_failure", f"infrastructure error after {retries} retries: {exc}")
            return
        countdown = settings.job_retry_backoff_s * 2**retries
        log.warning("job %s: transient error (%s), retry %d in %d s", job_id, exc, retries + 1, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc
    except Exception as exc:
        log.exception("job %s crashed", job_id)
        fail_job(job_uuid, "internal_error", f"unexpected error in the worker: {type(exc).__name__}: {exc}")
