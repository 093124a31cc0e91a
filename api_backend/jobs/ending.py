"""The one way a job ends — done, failed, cancelled while queued or running, refused by the queue:
its row, and once that is committed, its webhook.

The webhook is sent only after the commit (a receiver that reads the job at once sees it ended) and
not at all when the transaction rolls back: follow-up work is queued on the session
(`after_commit`) and run by a session event, as Polar's worker enqueues after the request commits.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from api_backend.jobs import repository
from api_backend.jobs.models import Job, JobStatus

log = logging.getLogger(__name__)
_PENDING = "shadow_trainer.after_commit"


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run `action` once this session's transaction commits; forget it if the transaction rolls back."""
    session.info.setdefault(_PENDING, []).append(action)


@event.listens_for(Session, "after_commit")
def _run_pending(session: Session) -> None:
    for action in session.info.pop(_PENDING, []):
        try:
            action()
        except Exception:  # the commit stands; a broker that is down must not turn it into an error
            log.exception("could not run follow-up work after a commit")


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


def end_job(
    session: Session,
    job_id: uuid.UUID,
    status: JobStatus,
    *,
    from_statuses: tuple[str, ...] = repository.ACTIVE_STATUSES,
    **values: Any,
) -> Job | None:
    """End the job in this transaction unless it already ended (or is not in `from_statuses`);
    returns it when this call ended it. Its webhook, if it asked for one, goes after the commit."""
    if not repository.finish_job(session, job_id, status, from_statuses=from_statuses, **values):
        return None
    job = repository.reload_job(session, job_id)
    assert job is not None
    if job.callback_url:
        after_commit(session, lambda: _schedule_webhook(job_id))
    return job


def _schedule_webhook(job_id: uuid.UUID) -> None:
    from api_backend.webhooks.tasks import schedule_webhook  # the webhooks package imports the jobs one

    schedule_webhook(job_id)
