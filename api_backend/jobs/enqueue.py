"""The one way a job's analysis task is sent: after the transaction that made the job (or queued it
again) commits, never when it rolls back, so a fast worker always finds the row it is sent for.

The task's id is chosen here and stored on the row in that same transaction (the worker tells a
duplicate delivery by it). When the broker cannot be reached the job ends `failed` with
`enqueue_failed` and whoever committed hears `queue_unavailable` (a request answers 503).
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from api_backend.db.engine import session_scope
from api_backend.db.transaction import after_commit
from api_backend.domain_errors import Unavailable
from api_backend.jobs.ending import end_job
from api_backend.jobs.models import Job, JobStatus
from api_backend.observability.context import request_id_var

QUEUE_DOWN = "the job queue is unreachable; please retry later"


def enqueue_after_commit(session: Session, job: Job) -> None:
    task_id = str(uuid.uuid4())
    job.celery_task_id = task_id
    job_id, queue, request_id = job.id, job.queue, request_id_var.get()
    after_commit(session, lambda: _send(job_id, queue, task_id, request_id), must_succeed=True)


def _send(job_id: uuid.UUID, queue: str, task_id: str, request_id: str | None) -> None:
    from api_backend.jobs.tasks import analyze_job  # the tasks import the worker's runner

    try:
        analyze_job.apply_async(
            args=[str(job_id)],
            kwargs={"request_id": request_id},
            queue=queue,
            task_id=task_id,
            retry=True,
            retry_policy={"max_retries": 3, "interval_start": 0.2},
        )
    except Exception as exc:
        with session_scope() as session:
            end_job(session, job_id, JobStatus.failed, stage="failed", error_code="enqueue_failed",
                    error_message=QUEUE_DOWN)  # fmt: skip
        raise Unavailable("queue_unavailable", QUEUE_DOWN) from exc
