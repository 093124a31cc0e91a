"""The fast tier: the service in this process, for service and endpoint logic.

The API runs in-process (`httpx.ASGITransport`, driven from synchronous tests) against a real PostgreSQL
database migrated once per run; every test gets one connection whose outer transaction is rolled
back at the end. The request's `SessionDep` is that connection's session, committed once per request
as the real one is, and every other session the service opens is on that connection too: commits
become savepoints, and the work that follows a commit (sending a task) runs as in production.
Storage is a local folder of the test; the queue is recorded, not sent, so no worker runs. What only
running processes can show (workers, crashes, nginx, S3, Redis) stays in the tests that start the
stacks (`-m slow`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from alembic import command
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from api_backend.auth import limiter
from api_backend.auth.dependencies import OPEN_OWNER, get_owner
from api_backend.db import engine as db_engine
from api_backend.db.base import utcnow
from api_backend.db.migrations import alembic_config
from api_backend.db.transaction import unit_of_work
from api_backend.deps import get_session
from api_backend.jobs import events
from api_backend.jobs.models import Job, JobStatus
from api_backend.main import create_app
from api_backend.settings import Settings, get_settings
from api_backend.storage import Storage, factory
from api_backend.storage.local import LocalStorage

T = TypeVar("T")
# The settings' own caches: built from the environment on first use.
CACHED = (
    get_settings, db_engine.get_engine, db_engine.get_sessionmaker, factory.get_storage,
    limiter.get_rate_limits, events.get_stream_slots,
)  # fmt: skip


def clear_caches() -> None:
    if db_engine.get_engine.cache_info().currsize:
        db_engine.get_engine().dispose()
    for cached in CACHED:
        cached.cache_clear()


@contextmanager
def configured_service(
    monkeypatch: pytest.MonkeyPatch, database_url: str, data_dir: Path, **env: str
) -> Iterator[Settings]:
    """This process's settings, engine and storage pointed at `database_url` and `data_dir`."""
    values = {
        "ENVIRONMENT": "test", "DATABASE_URL": database_url, "DATA_DIR": str(data_dir),
        "STORAGE_BACKEND": "local", "RATE_LIMIT_PER_MINUTE": "1000000", "MAX_JOBS_IN_FLIGHT": "1000", **env,
    }  # fmt: skip
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    clear_caches()
    try:
        yield get_settings()
    finally:
        monkeypatch.undo()
        clear_caches()


def migrate(database_url: str) -> None:
    """`shadow-trainer db upgrade`, in this process."""
    command.upgrade(alembic_config(database_url), "head")


def job_row(status: JobStatus = JobStatus.queued, *, ago: timedelta = timedelta(0), **values: Any) -> Job:
    """A job as the service stores it, `ago` old; any column can be given."""
    job_id = values.pop("id", None) or uuid.uuid4()
    when = utcnow() - ago
    fields: dict[str, Any] = dict(
        id=job_id, owner=OPEN_OWNER, status=status.value, stage=status.value, model="yolo11n-pose",
        device="cpu", queue="cpu", input_key=f"jobs/{job_id}/input.mp4", input_filename="clip.mp4",
        input_size=10, output_keys={}, timings={}, options={}, created_at=when, updated_at=when,
    )  # fmt: skip
    if status.is_terminal:
        fields["finished_at"] = when
    fields.update(values)
    return Job(**fields)


class InProcessClient:
    """httpx's ASGI transport is asynchronous; this runs each request to completion on one loop, so
    tests read like the ones against real servers."""

    def __init__(self, app: FastAPI) -> None:
        self._loop = asyncio.new_event_loop()
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        self._client = httpx.AsyncClient(transport=transport, base_url="http://testserver")

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)

    def run(self, scenario: Callable[[httpx.AsyncClient], Awaitable[T]]) -> T:
        """An asynchronous scenario (requests at the same time) on the client."""
        return self._loop.run_until_complete(scenario(self._client))

    def close(self) -> None:
        self._loop.run_until_complete(self._client.aclose())
        self._loop.close()


@dataclass
class SentTask:
    job_id: str
    queue: str | None
    id: str  # what Celery's AsyncResult calls the task's id


@dataclass
class TaskRecorder:
    """Stands in for the broker's send (`apply_async`): what would have been queued, or a failure."""

    sent: list[SentTask] = field(default_factory=list)
    unreachable: bool = False
    delay_s: float = 0.0  # a slow broker (Celery's send blocks the calling thread)

    def apply_async(self, args: list[str], **options: Any) -> SentTask:
        time.sleep(self.delay_s)
        if self.unreachable:
            raise ConnectionError("broker unreachable")
        task = SentTask(args[0], options.get("queue"), options.get("task_id") or str(uuid.uuid4()))
        self.sent.append(task)
        return task


@dataclass
class InProcessApi:
    client: InProcessClient
    session: Session
    storage: Storage
    settings: Settings
    queue: TaskRecorder
    owner: str = OPEN_OWNER

    def add_job(self, status: JobStatus = JobStatus.queued, **values: Any) -> Job:
        job = job_row(status, **{"owner": self.owner, **values})
        self.session.add(job)
        self.session.commit()  # a savepoint: kept when a service rolls its own work back
        return job

    def store(self, key: str, content: bytes = b"x") -> None:
        source = self.settings.data_dir / "stored.tmp"
        source.write_bytes(content)
        self.storage.put_file(key, source)

    def stored(self) -> dict[str, bytes]:
        """Every stored object: key → content."""
        assert isinstance(self.storage, LocalStorage)
        root = self.storage.root
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
        }


@contextmanager
def in_process_api(
    monkeypatch: pytest.MonkeyPatch, database_url: str, data_dir: Path
) -> Iterator[InProcessApi]:
    """The app with one rolled-back session, a local folder and a recorded queue (see the module)."""
    from api_backend.jobs.tasks import analyze_job

    with configured_service(monkeypatch, database_url, data_dir) as settings:
        data_dir.mkdir(parents=True, exist_ok=True)
        recorder = TaskRecorder()
        monkeypatch.setattr(analyze_job, "apply_async", recorder.apply_async)
        connection = db_engine.get_engine().connect()
        outer = connection.begin()
        on_connection = sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        monkeypatch.setattr(db_engine, "get_sessionmaker", lambda: on_connection)
        session = on_connection()
        app = create_app()
        api = InProcessApi(InProcessClient(app), session, factory.get_storage(), settings, recorder)

        def test_session() -> Iterator[Session]:
            yield from unit_of_work(session)

        app.dependency_overrides[get_session] = test_session
        app.dependency_overrides[get_owner] = lambda: api.owner
        try:
            yield api
        finally:
            api.client.close()
            session.close()
            outer.rollback()
            connection.close()
