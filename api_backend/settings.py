"""One place for configuration: environment variables (or a `.env` file) → a typed `Settings`.

With nothing set, everything points at the embedded default: SQLite, a local folder and a
server-less Celery transport under `DATA_DIR`. Setting `DATABASE_URL`, `REDIS_URL` /
`CELERY_BROKER_URL` and `S3_BUCKET` switches to PostgreSQL, Redis and S3 with the same code.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shadow_trainer.media.video import VideoLimits
from shadow_trainer.pose.options import DEFAULT_MODEL, DEFAULT_PRECISION, Precision
from shadow_trainer.pose.rate import POSE_FPS

DEFAULT_SECRET = "change-me-in-production"


def is_redis_url(url: str) -> bool:
    return url.startswith(("redis://", "rediss://"))


class Settings(BaseSettings):
    # env_ignore_empty: `S3_ENDPOINT_URL=` (as compose files often write) means "not set".
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Path("data")
    secret_key: str = DEFAULT_SECRET

    database_url: str | None = None
    redis_url: str | None = None
    celery_broker_url: str | None = None

    storage_backend: Literal["auto", "local", "s3"] = "auto"
    s3_bucket: str | None = None
    s3_endpoint_url: str | None = None
    s3_public_endpoint_url: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key_id: str | None = None
    s3_secret_access_key: str | None = None
    s3_multipart_chunk_mb: int = Field(default=16, ge=5)
    download_url_expires_s: int = Field(default=3600, ge=60)

    # Pose estimation runs at most about this many times a second of video (slow motion is thinned
    # out); the frames between get interpolated keypoints. 0: on every frame.
    pose_max_fps: float = Field(default=POSE_FPS, ge=0)
    # CPU workers' arithmetic: fp32 (the reference) or int8 (the quantised model: faster pose, a few
    # punches fewer on real footage; see shadow_trainer/pose/options.py); GPU: float.
    pose_precision: Precision = DEFAULT_PRECISION
    # CPU workers: after a look at the whole picture, pose looks only at a crop around the people it
    # found (the whole picture again every second); same keypoints, less arithmetic.
    pose_crops: bool = True
    max_upload_mb: int = Field(default=2048, ge=1)
    # Resumable (tus) uploads: the largest PATCH body accepted (each is held in memory until written
    # to storage; nginx.conf allows 64m), and how long an unfinished upload is kept.
    resumable_chunk_mb: int = Field(default=16, ge=1, le=64)
    resumable_upload_days: int = Field(default=1, ge=1)
    max_video_duration_s: float = Field(default=3600.0, gt=0)
    max_video_pixels: int = Field(default=3840 * 2160, ge=1)  # width × height, after rotation
    max_jobs_in_flight: int = Field(default=10, ge=1)  # queued + running, per API key
    rate_limit_per_minute: int = Field(default=600, ge=1)  # requests per API key (or client IP)
    # Where clients reach the API (https://boxing.example.com): the base of the links in job documents.
    # Unset (development): the request's own Host, which a client controls.
    public_base_url: str | None = None
    # Proxies whose X-Forwarded-For is believed (uvicorn reads the same variable for the images' command).
    forwarded_allow_ips: str = "127.0.0.1,::1"
    auth_failures_per_minute: int = Field(default=30, ge=1)  # refused keys per client address
    max_event_streams: int = Field(default=8, ge=1)  # open /events streams per owner

    # Authentication: "api_key" needs `Authorization: Bearer <key>` (keys: `shadow-trainer keys create`);
    # "open" serves everyone as one local owner (the embedded single-user default).
    auth_mode: Literal["open", "api_key"] = "open"

    # Webhooks: POST the job to callback_url when it ends, signed with HMAC-SHA256 (SECRET_KEY).
    callback_max_retries: int = Field(default=8, ge=0)
    callback_timeout_s: float = Field(default=10.0, gt=0)
    # Signs webhooks of jobs made without an API key (open mode), `whsec_…`; unset, one is derived from
    # SECRET_KEY one-way (`shadow-trainer keys webhook-secret` prints it). Keys have their own.
    webhook_secret: str | None = None
    # Callbacks to private/loopback addresses are refused (SSRF) unless this is set.
    allow_private_callbacks: bool = False

    # Maintenance (Celery beat): delete stored files of jobs older than this, keeping their history;
    # fail or requeue jobs stuck `running` whose worker stopped beating.
    file_retention_days: int = Field(default=30, ge=1)
    stuck_job_timeout_s: int = Field(default=900, ge=60)
    # A `device=gpu` job fails with `no_gpu_worker` after queueing this long with no GPU worker alive
    # (not refused at submit: GPU workers may be scaled up from zero by the queue's length).
    gpu_queue_max_wait_s: int = Field(default=600, ge=1)
    maintenance_interval_s: int = Field(default=300, ge=10)
    allowed_origins: list[str] = []

    model_dir: Path | None = None
    default_model: str = DEFAULT_MODEL

    job_soft_time_limit_s: int = Field(default=3600, ge=10)
    job_time_limit_s: int = Field(default=3900, ge=20)
    job_max_retries: int = Field(default=5, ge=0)
    job_retry_backoff_s: int = Field(default=5, ge=1)
    worker_heartbeat_s: float = Field(default=10.0, gt=0)
    worker_concurrency: int = Field(default=1, ge=1)
    # Analysis is batch work: its processes yield the CPU to latency-sensitive API servers and nginx
    # when they share a machine (0 keeps the normal priority).
    worker_nice: int = Field(default=10, ge=0, le=19)

    worker_metrics_host: str = "0.0.0.0"
    worker_metrics_port: int = Field(default=9808, ge=0, le=65535)

    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"
    log_format: Literal["auto", "json", "text"] = "auto"  # auto: text on a terminal, else JSON

    @model_validator(mode="after")
    def _refuse_default_secret_outside_development(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError("SECRET_KEY must be set to a private value when ENVIRONMENT=production")
        if self.job_time_limit_s <= self.job_soft_time_limit_s:
            raise ValueError("JOB_TIME_LIMIT_S must be larger than JOB_SOFT_TIME_LIMIT_S")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'shadow_trainer.db').resolve()}"

    @property
    def resolved_broker_url(self) -> str:
        if self.celery_broker_url:
            return self.celery_broker_url
        if self.redis_url:
            return self.redis_url
        # Server-less transport: a SQLite file that the API and every local worker share.
        return f"sqla+sqlite:///{(self.data_dir / 'broker.db').resolve()}"

    @property
    def redis_broker_url(self) -> str | None:
        """The broker when it is Redis: state the API servers share (rate limits, stream slots) goes there."""
        broker = self.resolved_broker_url
        return broker if is_redis_url(broker) else None

    @property
    def resolved_storage_backend(self) -> Literal["local", "s3"]:
        if self.storage_backend == "auto":
            return "s3" if self.s3_bucket else "local"
        return self.storage_backend

    @property
    def worker_alive_window_s(self) -> float:
        """A worker whose last heartbeat is older than this is taken for dead (routing, health, recovery)."""
        return 3 * self.worker_heartbeat_s

    @property
    def storage_dir(self) -> Path:
        return (self.data_dir / "storage").resolve()

    @property
    def upload_tmp_dir(self) -> Path:
        return (self.data_dir / "tmp").resolve()

    @property
    def video_limits(self) -> VideoLimits:
        """Checked at upload from the declared sizes, and by the worker on every decoded frame."""
        return VideoLimits(max_pixels=self.max_video_pixels, max_duration_s=self.max_video_duration_s)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def resumable_chunk_bytes(self) -> int:
        return self.resumable_chunk_mb * 1024 * 1024

    @property
    def resumable_dir(self) -> Path:
        """Unfinished resumable uploads, with the local storage backend (S3 keeps them in the bucket)."""
        return self.upload_tmp_dir / "resumable"


def normalise_database_url(url: str) -> str:
    """Accept the usual `postgres://` / `postgresql://` forms and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
