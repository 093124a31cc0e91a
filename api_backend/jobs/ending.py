"""The one way a job ends — done, failed, cancelled while queued or running, refused by the queue:
its row, and once that is committed, its webhook.

The webhook is sent only after the commit (a receiver that reads the job at once sees it ended) and
not at all when the transaction rolls back (`db.transaction.after_commit`). The finished-jobs metric
is counted there too, once per job, in the process that ended it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from api_backend.db.transaction import after_commit
from api_backend.jobs import repository
from api_backend.jobs.models import Job, JobStatus
from api_backend.observability.job_metrics import record_job_end


def end_job(
    session: Session,
    job_id: uuid.UUID,
    status: JobStatus,
    *,
    from_statuses: tuple[str, ...] = repository.ACTIVE_STATUSES,
    **values: Any,
) -> Job | None:
    """End the job in this transaction unless it already ended (or is not in `from_statuses`);
    returns it when this call ended it. Once that commits, it is counted and its webhook, if it
    asked for one, goes."""
    if not repository.finish_job(session, job_id, status, from_statuses=from_statuses, **values):
        return None
    job = repository.reload_job(session, job_id)
    assert job is not None
    ended = (job.queue, job.status, job.error_code, job.started_at, job.finished_at)
    after_commit(session, lambda: record_job_end(*ended))
    if job.callback_url:
        after_commit(session, lambda: _schedule_webhook(job_id))
    return job


def _schedule_webhook(job_id: uuid.UUID) -> None:
    from api_backend.webhooks.tasks import schedule_webhook  # the webhooks package imports the jobs one

    schedule_webhook(job_id)
