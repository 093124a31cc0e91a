"""The job history table."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from api_backend.db.base import Base, UTCDateTime, utcnow
from shadow_trainer.documents.outputs import OUTPUT_NAMES


class JobStatus(enum.StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({JobStatus.succeeded, JobStatus.failed, JobStatus.cancelled})
# A still of the annotated video for the job list; stored with the outputs, not one of them (the contract).
THUMBNAIL_NAME = "thumbnail.jpg"
STORED_NAMES = (*OUTPUT_NAMES, THUMBNAIL_NAME)


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        UniqueConstraint("owner", "idempotency_key", name="uq_jobs_owner_idempotency_key"),
        Index("ix_jobs_owner_created", "owner", "created_at", "id"),
        Index("ix_jobs_status", "status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(64), default="local")
    idempotency_key: Mapped[str | None] = mapped_column(String(255))

    status: Mapped[str] = mapped_column(String(16), default=JobStatus.queued.value)
    stage: Mapped[str] = mapped_column(String(32), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    cancel_requested: Mapped[bool] = mapped_column(default=False)

    # What was asked for and where it was sent.
    model: Mapped[str] = mapped_column(String(64))
    device: Mapped[str] = mapped_column(String(8))
    queue: Mapped[str] = mapped_column(String(16))
    callback_url: Mapped[str | None] = mapped_column(Text)
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # The uploaded video.
    input_key: Mapped[str] = mapped_column(String(512))
    input_filename: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(200))  # given by a person (PATCH); None: the file's name
    input_size: Mapped[int] = mapped_column(BigInteger)
    input_sha256: Mapped[str | None] = mapped_column(String(64))  # tells Idempotency-Key retries apart
    api_key_id: Mapped[uuid.UUID | None] = mapped_column()  # the key that made it: whose webhook secret
    video: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    # Results and failures.
    output_keys: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # The session's figures from summary.json (figures.session_figures), kept so the job list and
    # the progress page read no storage; None until it succeeded.
    figures: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)

    # Execution bookkeeping.
    celery_task_id: Mapped[str | None] = mapped_column(String(64))
    worker: Mapped[str | None] = mapped_column(String(255))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    # Webhook delivery of the final state to callback_url.
    callback_status: Mapped[str | None] = mapped_column(String(16))  # pending | delivered | failed
    callback_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    callback_error: Mapped[str | None] = mapped_column(Text)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the retention task when the upload and outputs were deleted (the history row stays).
    files_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def job_status(self) -> JobStatus:
        return JobStatus(self.status)
