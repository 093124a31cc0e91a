"""The maintenance service on SQLite and on a real PostgreSQL database: retention deletes stored
files and keeps the history; stuck jobs of dead workers are requeued, then failed; long-queued jobs
are re-sent; a duplicate delivery of a requeued job is dropped by claim()."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from api_backend.db import engine as db_engine
from api_backend.db.base import utcnow
from api_backend.db.engine import session_scope
from api_backend.db.models import Base
from api_backend.jobs.models import Job, JobStatus
from api_backend.maintenance import service
from api_backend.settings import Settings
from api_backend.storage.local import LocalStorage
from api_backend.workers.models import WorkerHeartbeat
from tests.support.inprocess import SentTask, TaskRecorder, configured_service, job_row
from tests.support.services import postgres_database

DEAD, ALIVE = "cpu-111@dead-host", "cpu-222@live-host"


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Point this process's settings, engine and storage at a fresh database and folder."""
    env = {"FILE_RETENTION_DAYS": "30", "STUCK_JOB_TIMEOUT_S": "600", "JOB_MAX_RETRIES": "2",
           "WORKER_HEARTBEAT_S": "10"}  # fmt: skip
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / 'maintenance.db'}"
        else:
            url = stack.enter_context(postgres_database())
        configured = stack.enter_context(configured_service(monkeypatch, url, tmp_path / "data", **env))
        Base.metadata.create_all(db_engine.get_engine())
        yield configured


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[SentTask]:
    """Messages the enqueue path would send to the broker."""
    from api_backend.jobs.tasks import analyze_job

    recorder = TaskRecorder()
    monkeypatch.setattr(analyze_job, "apply_async", recorder.apply_async)
    return recorder.sent


def add_job(status: JobStatus, *, ago: timedelta = timedelta(0), **values: Any) -> uuid.UUID:
    job = job_row(status, ago=ago, **values)
    with session_scope() as session:
        session.add(job)
    return job.id


def get(job_id: uuid.UUID) -> Job:
    with session_scope() as session:
        job = session.get(Job, job_id)
        assert job is not None
        session.expunge(job)
        return job


def store_files(storage: LocalStorage, job_id: uuid.UUID, tmp: Path) -> dict[str, str]:
    source = tmp / f"{job_id}.bin"
    outputs = {}
    for key in [f"jobs/{job_id}/input.mp4"] + [f"jobs/{job_id}/outputs/{n}" for n in ("a.json", "b.mp4")]:
        source.write_bytes(b"x" * 10)
        storage.put_file(key, source)
        if "/outputs/" in key:
            outputs[key.rsplit("/", 1)[1]] = key
    return outputs


def beat_workers() -> None:
    with session_scope() as session:
        session.add(WorkerHeartbeat(hostname=DEAD, queues="cpu", last_seen=utcnow() - timedelta(minutes=10)))
        session.add(WorkerHeartbeat(hostname=ALIVE, queues="cpu", last_seen=utcnow()))


def test_retention_deletes_files_and_keeps_history(settings: Settings, tmp_path: Path) -> None:
    storage = LocalStorage(settings.storage_dir)
    old_days = timedelta(days=settings.file_retention_days + 1)
    expired = [add_job(JobStatus.succeeded, ago=old_days) for _ in range(3)]
    expired.append(add_job(JobStatus.failed, ago=old_days, error_code="invalid_video"))
    recent = add_job(JobStatus.succeeded, ago=timedelta(days=1))
    running_old = add_job(JobStatus.running, ago=old_days)  # still running: never touched
    outputs = {}
    for job_id in [*expired, recent, running_old]:
        outputs[job_id] = store_files(storage, job_id, tmp_path)
    with session_scope() as session:
        for job_id in [*expired, recent]:
            session.get(Job, job_id).output_keys = outputs[job_id]  # type: ignore[union-attr]

    report = service.delete_expired_files(settings, storage, batch_size=3)  # two batches

    assert (report.jobs, report.objects, report.errors) == (4, 12, 0)
    for job_id in expired:
        job = get(job_id)
        assert job.files_deleted_at is not None
        assert job.output_keys == {}
        assert job.status in ("succeeded", "failed")  # the history row and its outcome stay
        assert not (settings.storage_dir / "jobs" / str(job_id) / "input.mp4").exists()
        assert not (settings.storage_dir / "jobs" / str(job_id)).exists()
    assert get(expired[-1]).error_code == "invalid_video"
    for job_id in (recent, running_old):
        assert get(job_id).files_deleted_at is None
        assert storage.size(f"jobs/{job_id}/input.mp4") == 10
        assert storage.size(f"jobs/{job_id}/outputs/a.json") == 10
    assert get(recent).output_keys == outputs[recent]

    again = service.delete_expired_files(settings, storage)  # idempotent: nothing left to do
    assert (again.jobs, again.objects) == (0, 0)


def test_retention_stops_when_storage_fails_and_resumes(settings: Settings, tmp_path: Path) -> None:
    class Broken(LocalStorage):
        def delete_prefix(self, prefix: str) -> int:
            raise service.StorageError("S3 is down")

    job_id = add_job(JobStatus.succeeded, ago=timedelta(days=settings.file_retention_days + 1))
    report = service.delete_expired_files(settings, Broken(settings.storage_dir))
    assert (report.jobs, report.errors) == (0, 1)
    assert get(job_id).files_deleted_at is None  # left for the next run
    assert service.delete_expired_files(settings, LocalStorage(settings.storage_dir)).jobs == 1
    assert get(job_id).files_deleted_at is not None


def test_abandoned_upload_files_are_swept(settings: Settings) -> None:
    tmp = settings.upload_tmp_dir
    tmp.mkdir(parents=True)
    stale, fresh, other = tmp / "upload-stale.part", tmp / "upload-fresh.part", tmp / "keep.txt"
    for path in (stale, fresh, other):
        path.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    os.utime(other, (two_hours_ago, two_hours_ago))
    assert service.run_retention(settings).tmp_files == 1
    assert not stale.exists() and fresh.exists() and other.exists()


def test_expired_resumable_uploads_are_removed(settings: Settings) -> None:
    folder = settings.resumable_dir
    folder.mkdir(parents=True)
    for uid, expires in (
        ("a" * 32, "Mon, 30 Nov 2026 10:00:00 GMT"),
        ("b" * 32, "Fri, 01 Jan 2100 10:00:00 GMT"),
    ):
        (folder / uid).write_bytes(b"partial")
        (folder / f"{uid}.info").write_text(
            json.dumps({"metadata": {}, "size": 10, "offset": 7, "expires": expires})
        )
    assert service.run_retention(settings).resumable_uploads == 1
    assert sorted(path.name for path in folder.iterdir()) == ["b" * 32, "b" * 32 + ".info"]


def test_stuck_job_of_dead_worker_is_requeued_then_failed(settings: Settings, sent: list[SentTask]) -> None:
    beat_workers()
    stale = timedelta(seconds=settings.stuck_job_timeout_s + 60)
    stuck = add_job(JobStatus.running, ago=stale, worker=DEAD, attempts=1, celery_task_id="first")
    on_live_worker = add_job(JobStatus.running, ago=stale, worker=ALIVE, attempts=1)
    recently_updated = add_job(JobStatus.running, worker=DEAD, attempts=1)
    unknown_worker = add_job(JobStatus.running, ago=stale, worker="cpu-333@gone", attempts=1)

    report = service.recover_jobs(settings)

    assert set(report.requeued) == {stuck, unknown_worker} and report.failed == []
    job = get(stuck)
    assert (job.status, job.stage, job.worker, job.attempts) == ("queued", "queued", None, 1)
    assert job.updated_at > utcnow() - timedelta(minutes=1)
    message = next(m for m in sent if m.job_id == str(stuck))
    assert message.queue == "cpu"
    assert job.celery_task_id == message.id  # the new message, so the old one is a duplicate
    assert get(on_live_worker).status == "running"
    assert get(recently_updated).status == "running"

    # The requeued job runs again and its worker dies again, until attempts reach JOB_MAX_RETRIES.
    with session_scope() as session:
        row = session.get(Job, stuck)
        assert row is not None
        row.status, row.worker, row.attempts = "running", DEAD, settings.job_max_retries
        row.updated_at = utcnow() - stale
    sent.clear()
    report = service.recover_jobs(settings)
    assert report.failed == [stuck] and stuck not in report.requeued
    job = get(stuck)
    assert (job.status, job.error_code) == ("failed", "worker_lost")
    assert DEAD in (job.error_message or "")
    assert job.finished_at is not None
    assert not any(m.job_id == str(stuck) for m in sent)
    assert service.recover_jobs(settings).failed == []  # nothing more to do


def test_long_queued_job_is_resent_once_per_timeout(settings: Settings, sent: list[SentTask]) -> None:
    lost = add_job(JobStatus.queued, ago=timedelta(seconds=settings.stuck_job_timeout_s + 5))
    fresh = add_job(JobStatus.queued)
    assert service.recover_jobs(settings).resent == [lost]
    assert [m.job_id for m in sent] == [str(lost)]
    assert get(lost).status == "queued"
    assert service.recover_jobs(settings).resent == []  # updated_at was bumped
    assert get(fresh).status == "queued"


def test_claim_runs_a_job_once_under_duplicate_messages(settings: Settings) -> None:
    from api_backend.jobs.runner import claim

    job_id = add_job(JobStatus.queued)
    assert claim(job_id, task_id="new", worker=ALIVE) is not None
    job = get(job_id)
    assert (job.status, job.attempts, job.worker, job.celery_task_id) == ("running", 1, ALIVE, "new")
    # The original message, redelivered by the broker after the requeue: dropped.
    assert claim(job_id, task_id="old", worker=DEAD) is None
    assert get(job_id).attempts == 1
    # The same message again (pool child lost, or a retry): runs.
    assert claim(job_id, task_id="new", worker=ALIVE) is not None
    assert get(job_id).attempts == 2


def test_gpu_jobs_fail_when_no_gpu_worker_serves_them(settings: Settings) -> None:
    wait = timedelta(seconds=settings.gpu_queue_max_wait_s)
    waited = add_job(JobStatus.queued, ago=wait * 2, device="gpu", queue="gpu")
    fresh = add_job(JobStatus.queued, ago=wait / 2, device="gpu", queue="gpu")
    on_cpu = add_job(JobStatus.queued, ago=wait * 2)
    running = add_job(JobStatus.running, ago=wait * 2, device="gpu", queue="gpu", worker=ALIVE)
    assert service.fail_unserved_gpu_jobs(settings) == [waited]
    job = get(waited)
    assert (job.status, job.error_code) == ("failed", "no_gpu_worker")
    assert "device auto or cpu" in (job.error_message or "")
    assert {get(j).status for j in (fresh, on_cpu)} == {"queued"} and get(running).status == "running"
    # With a GPU worker alive, queued GPU jobs wait for it however long they have queued.
    late = add_job(JobStatus.queued, ago=wait * 3, device="gpu", queue="gpu")
    with session_scope() as session:
        session.add(WorkerHeartbeat(hostname="gpu@box", queues="gpu", has_gpu=True, last_seen=utcnow()))
    assert service.fail_unserved_gpu_jobs(settings) == []
    assert get(late).status == "queued"


def test_jobs_from_before_figures_get_them_from_their_summary(settings: Settings, tmp_path: Path) -> None:
    """Jobs that succeeded before migration 0005 have no figures: retention fills them in from the
    stored summary.json, once; jobs without a readable summary are left for a later run."""
    storage = LocalStorage(settings.storage_dir)
    speed = {"by_type": {"jab": {"count": 20, "mean": 4.0}, "cross": {"count": 10, "mean": 7.0}}}
    combos = [{"sequence": ["jab", "cross"]}] * 4
    summary = {"duration": 120.0, "total_punches": 30, "punches_per_minute": 15.0, "fighters": [],
               "main_track_id": None, "combos": combos, "speed": speed}  # fmt: skip
    old = add_job(JobStatus.succeeded, output_keys={"summary.json": "jobs/old/outputs/summary.json"})
    source = tmp_path / "summary.json"
    source.write_text(json.dumps(summary))
    storage.put_file("jobs/old/outputs/summary.json", source)
    missing = add_job(JobStatus.succeeded, output_keys={"summary.json": "jobs/gone/outputs/summary.json"})
    failed = add_job(JobStatus.failed)
    kept = {"punches": 1}
    recent = add_job(JobStatus.succeeded, figures=kept)

    assert service.backfill_figures(storage) == 1
    assert get(old).figures == {
        "track_id": None, "fighters": 0, "duration_s": 120.0, "punches": 30, "punches_per_minute": 15.0,
        "mean_speed": 5.0, "combos": 4, "combos_per_minute": 2.0,
    }  # fmt: skip
    assert get(missing).figures is None and get(failed).figures is None
    assert get(recent).figures == kept
    assert service.backfill_figures(storage) == 0  # done once
