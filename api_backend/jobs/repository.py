"""Database reads and writes for jobs; no HTTP or Celery here."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select, text, update
from sqlalchemy.orm import Session

from api_backend.db.base import utcnow
from api_backend.jobs.models import TERMINAL_STATUSES, Job, JobStatus

ACTIVE_STATUSES = (JobStatus.queued.value, JobStatus.running.value)


def get_job(session: Session, job_id: uuid.UUID, *, owner: str | None = None) -> Job | None:
    job = session.get(Job, job_id)
    if job is None or (owner is not None and job.owner != owner):
        return None
    return job


def lock_job(session: Session, job_id: uuid.UUID) -> Job | None:
    """The job, row-locked until the transaction ends (skipped if another transaction holds it)."""
    return session.scalars(_locked(select(Job).where(Job.id == job_id), session)).first()


def get_for_update(session: Session, job_id: uuid.UUID) -> Job | None:
    """The job, waiting for and holding its row lock (a worker claiming it)."""
    return session.get(Job, job_id, with_for_update=True)


def reload_job(session: Session, job_id: uuid.UUID) -> Job | None:
    """The job as the database has it now, not as this session last saw it."""
    return session.get(Job, job_id, populate_existing=True)


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


def _locked(query: Select[Any], session: Session) -> Select[Any]:
    """Row locks on PostgreSQL (two maintenance runs never handle the same job); SQLite has none."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


# --- maintenance's reads (each a batch, oldest first unless said) -------------------------------


def ended_with_files(session: Session, *, before: datetime, limit: int) -> list[Job]:
    """Jobs that ended before `before` and still have stored files, row-locked."""
    query = (
        select(Job)
        .where(
            Job.status.in_([status.value for status in TERMINAL_STATUSES]),
            Job.finished_at.is_not(None),
            Job.finished_at < before,
            Job.files_deleted_at.is_(None),
        )
        .order_by(Job.finished_at)
        .limit(limit)
    )
    return list(session.scalars(_locked(query, session)))


def succeeded_without_figures(session: Session, *, limit: int) -> list[Job]:
    """Succeeded jobs whose files are kept but that have no figures yet, newest first, row-locked."""
    query = (
        select(Job)
        .where(Job.status == JobStatus.succeeded.value, Job.figures.is_(None), Job.files_deleted_at.is_(None))
        .order_by(Job.finished_at.desc())
        .limit(limit)
    )
    return list(session.scalars(_locked(query, session)))


def running_since(session: Session, *, before: datetime, limit: int) -> list[tuple[uuid.UUID, str | None]]:
    """(id, worker) of running jobs not updated since `before`."""
    query = (
        select(Job.id, Job.worker)
        .where(Job.status == JobStatus.running.value, Job.updated_at < before)
        .order_by(Job.updated_at)
        .limit(limit)
    )
    return [(job_id, worker) for job_id, worker in session.execute(query)]


def queued_since(
    session: Session, *, before: datetime, limit: int, queue: str | None = None, by_created: bool = False
) -> list[uuid.UUID]:
    """Ids of queued jobs not updated (or, `by_created`, made) since `before`, on `queue` if given."""
    column = Job.created_at if by_created else Job.updated_at
    query = select(Job.id).where(Job.status == JobStatus.queued.value, column < before)
    if queue is not None:
        query = query.where(Job.queue == queue)
    return list(session.scalars(query.order_by(column).limit(limit)))
