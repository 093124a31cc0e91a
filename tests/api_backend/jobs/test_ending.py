"""Ending a job: the row changes in the caller's transaction; its webhook follows the commit only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from api_backend.db.models import Base
from api_backend.jobs import ending
from api_backend.jobs.models import Job, JobStatus


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    engine = create_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def webhooks(monkeypatch: pytest.MonkeyPatch) -> list[uuid.UUID]:
    sent: list[uuid.UUID] = []
    monkeypatch.setattr(ending, "_schedule_webhook", sent.append)
    return sent


def add_job(session: Session, status: JobStatus, **values: Any) -> uuid.UUID:
    job = Job(
        status=status.value, model="yolo11n-pose", device="cpu", queue="cpu", input_key="jobs/x/input.mp4",
        input_filename="x.mp4", input_size=1, output_keys={}, options={}, timings={}, **values,
    )  # fmt: skip
    session.add(job)
    session.commit()
    return job.id


def test_the_webhook_goes_after_the_commit_and_never_after_a_rollback(
    session: Session, webhooks: list[uuid.UUID]
) -> None:
    job_id = add_job(session, JobStatus.running, callback_url="https://example.com/hook")
    job = ending.end_job(session, job_id, JobStatus.failed, error_code="x", error_message="y")
    assert job is not None and job.status == "failed" and job.finished_at is not None
    assert webhooks == []  # not before the commit
    session.rollback()
    session.commit()
    assert webhooks == []  # the rollback dropped it; a later commit does not send it
    assert session.get(Job, job_id, populate_existing=True).status == "running"  # type: ignore[union-attr]

    assert ending.end_job(session, job_id, JobStatus.succeeded, stage="done") is not None
    session.commit()
    assert webhooks == [job_id]
    assert ending.end_job(session, job_id, JobStatus.failed) is None  # it ended already: nothing more
    session.commit()
    assert webhooks == [job_id]


def test_no_webhook_without_a_callback_and_a_failing_one_does_not_undo_the_commit(
    session: Session, webhooks: list[uuid.UUID], monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet = add_job(session, JobStatus.queued)
    assert ending.end_job(session, quiet, JobStatus.cancelled, stage="cancelled") is not None
    session.commit()
    assert webhooks == []

    def broker_down(job_id: uuid.UUID) -> None:
        raise ConnectionError("redis is down")

    monkeypatch.setattr(ending, "_schedule_webhook", broker_down)
    loud = add_job(session, JobStatus.queued, callback_url="https://example.com/hook")
    ending.end_job(session, loud, JobStatus.failed, error_code="enqueue_failed", error_message="down")
    session.commit()  # does not raise
    assert session.get(Job, loud, populate_existing=True).status == "failed"  # type: ignore[union-attr]


def finished_count(queue: str, status: str, error_code: str = "") -> float:
    value = REGISTRY.get_sample_value(
        "shadow_jobs_finished_total", {"queue": queue, "status": status, "error_code": error_code}
    )
    return value or 0.0


def test_every_ending_is_counted_once_after_its_commit(session: Session, webhooks: list[uuid.UUID]) -> None:
    """Wherever a job ends (the API's cancel of a queued job here), it is counted, after the commit."""
    before = finished_count("cpu", "cancelled")
    job_id = add_job(session, JobStatus.queued)
    assert ending.end_job(session, job_id, JobStatus.cancelled, stage="cancelled") is not None
    session.rollback()
    assert finished_count("cpu", "cancelled") == before
    assert ending.end_job(session, job_id, JobStatus.cancelled, stage="cancelled") is not None
    assert finished_count("cpu", "cancelled") == before  # not before the commit
    session.commit()
    assert finished_count("cpu", "cancelled") == before + 1
    assert ending.end_job(session, job_id, JobStatus.failed, error_code="late") is None
    session.commit()
    assert finished_count("cpu", "cancelled") == before + 1
    assert finished_count("cpu", "failed", "late") == 0.0
