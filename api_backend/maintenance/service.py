"""Maintenance logic, free of Celery so tests call it directly.

Retention: jobs that ended more than FILE_RETENTION_DAYS ago lose their stored files (the upload
and the outputs, everything under `jobs/<id>/`); the history row stays, marked `files_deleted_at`
with `output_keys` cleared. Idempotent and batched: a failed run leaves the rest for the next one.

Stuck jobs: a job `running` with no update for STUCK_JOB_TIMEOUT_S whose worker (`Job.worker`,
the Celery node name that the heartbeat table also uses) stopped beating was lost with its worker
(SIGKILL, OOM, a node gone). With the Redis broker its unacknowledged message would only come back
after the visibility timeout (JOB_TIME_LIMIT_S + 300 s, over an hour by default), so recovery is
done here: the job goes back to `queued` and a fresh message is sent through the usual enqueue
path while `attempts` < JOB_MAX_RETRIES; otherwise it fails with `worker_lost`. If the original
message is redelivered later, `runner.claim()` drops it: the job either ended or runs under the
new message id.

Lost queued messages: a job `queued` with no update for STUCK_JOB_TIMEOUT_S is re-sent too. Its
message may have been lost (Redis restarted without persistence, a broker failover), and a queue
backlog cannot be told apart from a loss cheaply; a duplicate message is harmless because
`claim()` runs a job once (the first message claims it, the other finds it running under another
id or ended). Each re-send bumps `updated_at`, so a job is re-sent at most once per timeout.

GPU jobs nobody serves: a `device=gpu` job queued for GPU_QUEUE_MAX_WAIT_S while no GPU worker is
alive fails with `no_gpu_worker` (instead of waiting for ever and counting against the owner's jobs
in flight). It is not refused at submit, so GPU workers scaled from zero by the queue length work.

Upload leftovers: an API process killed mid-upload leaves its `upload-*.part` file in the upload
folder; files there untouched for UPLOAD_TMP_MAX_AGE_S are deleted (from the processes that share
DATA_DIR with the API: the embedded `serve`, or any worker mounting the same data volume).
Resumable uploads past their expiry go too (from the bucket with S3, from DATA_DIR otherwise).

Figures of older jobs: jobs that succeeded before the database kept their figures (migration 0005)
get them from their stored summary.json, a batch per run, so the job list and the progress page
show them too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from api_backend.db.base import utcnow
from api_backend.db.engine import session_scope
from api_backend.domain_errors import Unavailable
from api_backend.jobs import repository
from api_backend.jobs.enqueue import enqueue_after_commit
from api_backend.jobs.figures import session_figures
from api_backend.jobs.models import JobStatus
from api_backend.settings import Settings, get_settings
from api_backend.storage import Storage, StorageError, get_storage
from api_backend.storage.factory import build_storage
from api_backend.uploads.storage import build_resumable_storage, remove_expired
from api_backend.workers.registry import live_workers, live_workers_per_queue

log = logging.getLogger(__name__)

BATCH_SIZE = 100
MAX_BATCHES_PER_RUN = 50
UPLOAD_TMP_MAX_AGE_S = 3600.0
UPLOAD_TMP_PATTERN = "upload-*.part"


@dataclass
class RetentionReport:
    jobs: int = 0
    objects: int = 0
    tmp_files: int = 0
    resumable_uploads: int = 0
    figures_backfilled: int = 0
    errors: int = 0


@dataclass
class RecoveryReport:
    requeued: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    resent: list[uuid.UUID] = field(default_factory=list)
    unserved: list[uuid.UUID] = field(default_factory=list)


# --- retention ---------------------------------------------------------------------------------


def delete_expired_files(
    settings: Settings | None = None, storage: Storage | None = None, *, batch_size: int = BATCH_SIZE
) -> RetentionReport:
    """Delete the stored files of jobs that ended more than FILE_RETENTION_DAYS ago."""
    settings = settings or get_settings()
    storage = storage or get_storage()
    cutoff = utcnow() - timedelta(days=settings.file_retention_days)
    report = RetentionReport()
    for _ in range(MAX_BATCHES_PER_RUN):
        with session_scope() as session:
            jobs = repository.ended_with_files(session, before=cutoff, limit=batch_size)
            for job in jobs:
                try:
                    report.objects += storage.delete_prefix(f"jobs/{job.id}/")
                except (StorageError, OSError) as exc:
                    # Storage unreachable: keep what was done, try the rest next run.
                    log.warning("retention: could not delete the files of job %s: %s", job.id, exc)
                    report.errors += 1
                    return report
                job.files_deleted_at = utcnow()
                job.output_keys = {}
                report.jobs += 1
        if len(jobs) < batch_size:
            break
    if report.jobs:
        log.info("retention: deleted %d objects of %d jobs", report.objects, report.jobs)
    return report


def sweep_upload_tmp(tmp_dir: Path, max_age_s: float = UPLOAD_TMP_MAX_AGE_S) -> int:
    """Delete upload temporary files left by an API process that died mid-upload."""
    if not tmp_dir.is_dir():
        return 0
    cutoff = time.time() - max_age_s
    removed = 0
    for path in tmp_dir.glob(UPLOAD_TMP_PATTERN):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue  # finished or removed meanwhile
    if removed:
        log.info("removed %d abandoned upload file(s) from %s", removed, tmp_dir)
    return removed


def remove_expired_uploads(settings: Settings, report: RetentionReport) -> None:
    """Resumable uploads past their Upload-Expires (RESUMABLE_UPLOAD_DAYS): never finished, or
    finished but never made into a job."""
    try:
        resumable = build_resumable_storage(build_storage(settings), settings)
        report.resumable_uploads = asyncio.run(remove_expired(resumable))
    except (StorageError, OSError, BotoCoreError, ClientError) as exc:
        log.warning("retention: could not remove expired resumable uploads: %s", exc)
        report.errors += 1


def run_retention(settings: Settings | None = None) -> RetentionReport:
    settings = settings or get_settings()
    report = delete_expired_files(settings)
    report.tmp_files = sweep_upload_tmp(settings.upload_tmp_dir)
    remove_expired_uploads(settings, report)
    report.figures_backfilled = backfill_figures()
    return report


def backfill_figures(storage: Storage | None = None, *, batch_size: int = BATCH_SIZE) -> int:
    """Figures from the summary.json of succeeded jobs that have none (newest first); a job whose
    summary cannot be read now is tried again next run."""
    storage = storage or get_storage()
    done = 0
    with session_scope() as session:
        for job in repository.succeeded_without_figures(session, limit=batch_size):
            key = job.output_keys.get("summary.json")
            try:
                summary = json.loads(b"".join(storage.iter_chunks(key))) if key else None
            except (StorageError, OSError, ValueError) as exc:
                log.warning("figures: could not read the summary of job %s: %s", job.id, exc)
                continue
            if isinstance(summary, dict):
                job.figures = session_figures(summary)
                done += 1
    return done


# --- stuck and lost jobs -----------------------------------------------------------------------


def recover_jobs(settings: Settings | None = None) -> RecoveryReport:
    """Requeue (or fail) `running` jobs of dead workers; re-send long-`queued` jobs."""
    settings = settings or get_settings()
    report = RecoveryReport()
    cutoff = utcnow() - timedelta(seconds=settings.stuck_job_timeout_s)
    with session_scope() as session:
        alive = {worker.hostname for worker in live_workers(session, settings.worker_alive_window_s)}
        running = repository.running_since(session, before=cutoff, limit=BATCH_SIZE)
        stuck = [job_id for job_id, worker in running if worker not in alive]
        waiting = repository.queued_since(session, before=cutoff, limit=BATCH_SIZE)
    for job_id in stuck:
        _recover_stuck(job_id, cutoff, alive, settings, report)
    for job_id in waiting:
        _resend_queued(job_id, cutoff, report)
    report.unserved = fail_unserved_gpu_jobs(settings)
    return report


def fail_unserved_gpu_jobs(settings: Settings) -> list[uuid.UUID]:
    from api_backend.celery_app import GPU_QUEUE
    from api_backend.jobs.runner import fail_job

    cutoff = utcnow() - timedelta(seconds=settings.gpu_queue_max_wait_s)
    with session_scope() as session:
        if live_workers_per_queue(session, settings.worker_alive_window_s).get(GPU_QUEUE, 0):
            return []
        unserved = repository.queued_since(
            session, before=cutoff, limit=BATCH_SIZE, queue=GPU_QUEUE, by_created=True
        )
    waited = settings.gpu_queue_max_wait_s
    message = f"no GPU worker was available for {waited} s; submit again with device auto or cpu"
    for job_id in unserved:
        fail_job(job_id, "no_gpu_worker", message, only_if_queued=True)  # one started meanwhile runs on
    return unserved


def _recover_stuck(
    job_id: uuid.UUID, cutoff: datetime, alive: set[str], settings: Settings, report: RecoveryReport
) -> None:
    lost_worker, attempts, requeued = "unknown", 0, False
    try:
        with session_scope() as session:
            job = repository.lock_job(session, job_id)
            # Checked again under the lock: the job may have moved on since the first read.
            if job is None or job.status != JobStatus.running.value or job.updated_at >= cutoff:
                return
            if job.worker in alive:
                return
            lost_worker, attempts = job.worker or "unknown", job.attempts
            if attempts < settings.job_max_retries:
                repository.update_job(session, job.id, status=JobStatus.queued.value, stage="queued",
                                      progress=0.0, worker=None)  # fmt: skip
                session.refresh(job)
                enqueue_after_commit(session, job)
                requeued = True
    except Unavailable:
        return  # the broker is down: the job ended failed (enqueue_failed), as for the API
    if requeued:
        log.warning("job %s requeued: worker %s lost (attempt %d)", job_id, lost_worker, attempts)
        report.requeued.append(job_id)
        return
    # Out of the locked transaction: fail_job opens its own (counted, webhook queued).
    from api_backend.jobs.runner import fail_job

    message = f"the worker {lost_worker} stopped while running the job ({attempts} attempts)"
    fail_job(job_id, "worker_lost", message)
    report.failed.append(job_id)


def _resend_queued(job_id: uuid.UUID, cutoff: datetime, report: RecoveryReport) -> None:
    try:
        with session_scope() as session:
            job = repository.lock_job(session, job_id)
            if job is None or job.status != JobStatus.queued.value or job.updated_at >= cutoff:
                return
            repository.update_job(session, job.id)  # bumps updated_at: one re-send per timeout
            session.refresh(job)
            log.warning("job %s still queued after the timeout; sending its message again", job.id)
            enqueue_after_commit(session, job)
    except Unavailable:
        return  # the broker is down: the job ended failed (enqueue_failed), as for the API
    report.resent.append(job_id)
