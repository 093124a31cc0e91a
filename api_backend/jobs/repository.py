"""Database reads and writes for jobs; no HTTP or Celery here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from api_backend.db.base import utcnow
from api_backend.jobs.models import TERMINAL_STATUSES, Job, JobStatus

ACTIVE_STATUSES = (JobStatus.queued.value, JobStatus.running.value)


def get_job(session: Session, job_id: uuid.UUID, *, owner: str | None = None) -> Job | None:
    job = session.get(Job, job_id)
    if job is None or (owner is not None and job.owner != owner):
        return None
    return job


def get_by_idempotency_key(session: Session, owner: str, key: str) -> Job | None:
    return session.scalars(select(Job).where(Job.owner == owner, Job.idempotency_key == key)).first()


def list_jobs(
    session: Session,
    *,
    owner: str,
    status: JobStatus | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[Job]:
    """Newest first; `after` is the (created_at, id) of the last job of the previous page."""
    query = select(Job).where(Job.owner == owner)
    if status is not None:
        query = query.where(Job.status == status.value)
    if after is not None:
        created_at, job_id = after
        query = query.where(
            or_(Job.created_at < created_at, (Job.created_at == created_at) & (Job.id < job_id))
        )
    query = query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)
    return list(session.scalars(query))


def analysed_sessions(
    session: Session, *, owner: str, since: datetime | None, until: datetime | None, limit: int
) -> list[Job]:
    """Succeeded jobs in which somebody boxed, `since` ≤ created_at < `until`, newest first."""
    query = select(Job).where(
        Job.owner == owner,
        Job.status == JobStatus.succeeded.value,
        Job.figures["fighters"].as_integer() > 0,
    )
    if since is not None:
        query = query.where(Job.created_at >= since)
    if until is not None:
        query = query.where(Job.created_at < until)
    return list(session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit)))


def update_job(
    session: Session, job_id: uuid.UUID, *, from_statuses: tuple[str, ...] = ACTIVE_STATUSES, **values: Any
) -> bool:
    """Update a job unless it ended (or is not in ``from_statuses``); returns whether a row changed."""
    query = update(Job).where(Job.id == job_id, Job.status.in_(from_statuses))
    result = session.execute(query.values(updated_at=utcnow(), **values))
    return bool(getattr(result, "rowcount", 0))


def finish_job(
    session: Session,
    job_id: uuid.UUID,
    status: JobStatus,
    *,
    from_statuses: tuple[str, ...] = ACTIVE_STATUSES,
    **values: Any,
) -> bool:
    assert status in TERMINAL_STATUSES
    return update_job(
        session, job_id, from_statuses=from_statuses, status=status.value, finished_at=utcnow(), **values
    )


def is_cancel_requested(session: Session, job_id: uuid.UUID) -> bool:
    return bool(session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


def count_in_flight(session: Session, owner: str) -> int:
    query = select(func.count()).select_from(Job).where(Job.owner == owner, Job.status.in_(ACTIVE_STATUSES))
    return int(session.scalar(query) or 0)


def lock_owner(session: Session, owner: str) -> None:
    """Serialise job creation per owner until this transaction ends, so a count then an insert is one
    step: concurrent uploads cannot all pass a limit that only one of them may take."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:owner))"), {"owner": owner})
    else:  # SQLite: a write statement takes the database's write lock; others wait (busy_timeout)
        session.execute(update(Job).where(Job.owner == owner, Job.id.is_(None)).values(owner=owner))
