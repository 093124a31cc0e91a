"""Request and response bodies of the jobs API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from api_backend.jobs.models import JobStatus
from api_backend.openapi_docs import JOB_EXAMPLE, SESSIONS_EXAMPLE
from shadow_trainer.pose.options import Device


class JobOptions(BaseModel):
    """The form fields sent with the video."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"device": "auto", "callback_url": "https://coach.example.com/hooks/st"}]
        }
    )

    model: str = Field(default="", max_length=64, pattern=r"^[A-Za-z0-9._-]*$")
    device: Device = "auto"
    callback_url: AnyHttpUrl | None = None


class JobPatch(BaseModel):
    """What a person can change about a job."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"title": "Sparring, round 2"}]}
    )

    title: str | None = Field(max_length=200, description="null clears it")


class JobErrorOut(BaseModel):
    code: str
    message: str


class VideoOut(BaseModel):
    fps: float
    frames: int
    width: int
    height: int
    duration: float


class SessionFigures(BaseModel):
    """A finished session at a glance: the main fighter's figures (everyone's when nobody was singled
    out), from summary.json."""

    track_id: int | None = Field(description="the main fighter's; null: everyone's")
    fighters: int = Field(description="boxers found")
    duration_s: float
    punches: int
    punches_per_minute: float
    mean_speed: float | None = Field(description="mean peak speed, shoulder widths per second")
    combos: int = Field(description="combinations: ≥ 2 punches, each ≤ 0.6 s after the one before")
    combos_per_minute: float


class JobTimings(BaseModel):
    """Where the worker's time went, for a succeeded job."""

    total_s: float
    stages_s: dict[str, float] = Field(description="seconds per stage: loading_model, analyzing, …")
    frames_per_second: float


class WebhookOut(BaseModel):
    """The delivery of the job's `callback_url` (Standard Webhooks, retried with backoff)."""

    status: Literal["pending", "delivered", "failed"]
    attempts: int
    error: str | None = Field(description="why the last attempt failed; null once delivered")


class JobOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [JOB_EXAMPLE]})

    id: uuid.UUID
    status: JobStatus
    progress: float
    stage: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: JobErrorOut | None
    outputs: dict[str, str] = Field(description="output name → download URL (only once succeeded)")
    video: VideoOut | None
    model: str
    device: str
    queue: str
    filename: str
    size: int
    title: str | None = Field(default=None, description="given with PATCH; null until then")
    figures: SessionFigures | None = Field(default=None, description="once succeeded")
    thumbnail: str | None = Field(
        default=None, description="a signed link to a still of the annotated video, once succeeded"
    )
    timings: JobTimings | None = Field(default=None, description="once succeeded")
    webhook: WebhookOut | None = Field(default=None, description="when the job was given a callback_url")


class ProgressPoint(BaseModel):
    id: uuid.UUID
    created_at: datetime
    name: str = Field(description="the title, else the file's name")
    figures: SessionFigures


class ProgressOut(BaseModel):
    """The owner's analysed sessions, oldest first, for plotting over dates."""

    model_config = ConfigDict(json_schema_extra={"examples": [SESSIONS_EXAMPLE]})

    sessions: list[ProgressPoint]
    truncated: bool = Field(description="more sessions than `limit` in the range: the newest are shown")


class JobPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [JOB_EXAMPLE], "next_cursor": "WyIyMDI2LTEyLTAxVDA5OjMw…"}]}
    )

    items: list[JobOut]
    next_cursor: str | None = Field(description="pass as `cursor` to get the next (older) page")
