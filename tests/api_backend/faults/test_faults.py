"""Faults survived, against the real services (private PostgreSQL, Redis and S3 servers, the API, a
worker and Celery beat as separate processes), so stopping them disturbs no other test:

- a worker SIGKILLed mid-job: beat's stuck-job recovery requeues the job, a new worker runs it to
  success exactly once; a pool child SIGKILLed: Celery redelivers the message at once;
- an API process killed mid-upload: the client gets a connection error, no job and no stored file
  are left, beat sweeps the partial upload, the restarted API serves;
- Redis restarted: 503 while it is down, new jobs run to success afterwards; a queued job whose
  message the restart lost is re-sent by beat and succeeds;
- PostgreSQL restarted: /health/ready answers 503 during, recovers after, a later job succeeds;
- the S3 server down for 30 s while a job needs its input: the task retries with backoff and the
  job succeeds once S3 is back.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.support.clips import VTEST, cut_clip
from tests.support.services import PrivateServers, s3_client, started, wait_until
from tests.support.stack import ServiceStack
from tests.support.uploads import post_video

pytestmark = pytest.mark.slow  # starts the service as processes

OUTPUTS = {"annotated.mp4", "keypoints.json", "punches.json", "summary.json"}
STORED = {*OUTPUTS, "thumbnail.jpg"}  # the job list's still is stored with the outputs
STUCK_JOB_TIMEOUT_S = 60
MAINTENANCE_INTERVAL_S = 10


class Faults(PrivateServers):
    def sql(self, query: str, *params: object) -> list[tuple[Any, ...]]:
        url = self.postgres.url.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url, autocommit=True) as conn:
            cursor = conn.execute(query, params)
            return cursor.fetchall() if cursor.description else []

    def job_row(self, job_id: str) -> dict[str, Any]:
        columns = ("status", "attempts", "worker", "celery_task_id", "error_code", "output_keys")
        rows = self.sql(f"SELECT {', '.join(columns)} FROM jobs WHERE id = %s", uuid.UUID(job_id))
        return dict(zip(columns, rows[0], strict=True)) if rows else {}

    def objects(self, prefix: str = "") -> set[str]:
        listing = s3_client(self.s3.endpoint).list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        return {item["Key"] for item in listing.get("Contents", [])}


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Faults, ServiceStack]]:
    tmp = tmp_path_factory.mktemp("fault-stack")
    with started(Faults(tmp)) as servers:
        env = {
            **servers.env(),
            "MAINTENANCE_INTERVAL_S": str(MAINTENANCE_INTERVAL_S),
            "STUCK_JOB_TIMEOUT_S": str(STUCK_JOB_TIMEOUT_S),
            "JOB_RETRY_BACKOFF_S": "2",
            "JOB_MAX_RETRIES": "5",
            "LOG_FORMAT": "text",
        }
        stack = ServiceStack("faults", tmp, env)
        try:
            stack.migrate()
            stack.start_api()
            stack.start_worker()
            start_beat(stack)
            stack.wait_for_workers()
            yield servers, stack
        finally:
            stack.stop_all()


@pytest.fixture(scope="module")
def mid_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough (120 frames, several seconds of analysis) to kill a worker mid-job, short enough
    that running it twice stays cheap on two cores."""
    return cut_clip(VTEST, tmp_path_factory.mktemp("fault-clips") / "mid.mp4", frames=120)


def start_beat(stack: ServiceStack) -> None:
    import sys

    stack._spawn("beat", [sys.executable, "-m", "api_backend.cli", "beat", "--loglevel", "info"])


def submit(stack: ServiceStack, clip: Path) -> httpx.Response:
    with httpx.Client(base_url=stack.base_url, timeout=120) as client:
        return post_video(client, clip)


def run_to_success(stack: ServiceStack, clip: Path, timeout_s: float = 240) -> dict[str, Any]:
    response = submit(stack, clip)
    assert response.status_code == 202, response.text
    with stack.client() as client:
        job = stack.wait_for_job(client, response.json()["id"], timeout_s)
    assert job["status"] == "succeeded", (job, stack.logs())
    assert set(job["outputs"]) == OUTPUTS
    return job


def ready(stack: ServiceStack) -> int:
    return httpx.get(f"{stack.base_url}/health/ready", timeout=30).status_code


def kill_group(stack: ServiceStack, label: str) -> None:
    """SIGKILL a process and everything it forked (a Celery worker and its pool child)."""
    process = stack.processes.pop(label)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def test_worker_killed_mid_job_is_requeued_and_finishes_once(
    faults: tuple[Faults, ServiceStack], mid_clip: Path
) -> None:
    servers, stack = faults
    response = submit(stack, mid_clip)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    with stack.client() as client:

        def analysing() -> bool:
            job = client.get(f"/api/v1/jobs/{job_id}").json()
            assert job["status"] not in ("succeeded", "failed"), job
            return bool(job["status"] == "running" and job["progress"] > 0)

        wait_until(analysing, 180, "job running", interval_s=0.3)
        first = servers.job_row(job_id)
        assert first["attempts"] == 1 and first["worker"].startswith("cpu-"), first  # the Celery node name
        started = time.monotonic()
        kill_group(stack, "worker")  # the worker and its pool child, as an OOM kill or a lost node would
        assert client.get(f"/api/v1/jobs/{job_id}").json()["status"] == "running"

        # The job looks stuck only after STUCK_JOB_TIMEOUT_S without an update; let that time pass.
        servers.sql(
            "UPDATE jobs SET updated_at = updated_at - make_interval(secs => %s) WHERE id = %s",
            STUCK_JOB_TIMEOUT_S + 5,
            uuid.UUID(job_id),
        )
        stack.start_worker("worker-2")
        job = stack.wait_for_job(client, job_id, timeout_s=300)
        elapsed = time.monotonic() - started

    assert job["status"] == "succeeded", (job, stack.logs())
    assert set(job["outputs"]) == OUTPUTS
    row = servers.job_row(job_id)
    assert row["attempts"] == 2, row  # the lost run and the one that finished
    assert row["worker"] != first["worker"] and row["celery_task_id"] != first["celery_task_id"], row
    assert servers.objects(f"jobs/{job_id}/outputs/") == {f"jobs/{job_id}/outputs/{n}" for n in STORED}
    assert "requeued: worker" in (stack.workdir / "worker-2.log").read_text()
    time.sleep(MAINTENANCE_INTERVAL_S + 1)  # one more maintenance run changes nothing
    assert servers.job_row(job_id)["attempts"] == 2
    assert servers.job_row(job_id)["status"] == "succeeded"
    print(f"worker killed -> job succeeded after {elapsed:.1f} s")


def pool_children(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def test_pool_child_killed_mid_job_is_redelivered_at_once(
    faults: tuple[Faults, ServiceStack], mid_clip: Path
) -> None:
    """Only the pool child dies (the OOM killer's usual pick): Celery rejects the message back to
    the queue (acks_late + reject_on_worker_lost) and the same message runs again; claim() accepts
    it because it is the same message, not a duplicate."""
    servers, stack = faults
    label = next(name for name in stack.processes if name.startswith("worker"))
    response = submit(stack, mid_clip)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    with stack.client() as client:

        def analysing() -> bool:
            job = client.get(f"/api/v1/jobs/{job_id}").json()
            return bool(job["status"] == "running" and job["progress"] > 0)

        wait_until(analysing, 180, "job running", interval_s=0.3)
        first = servers.job_row(job_id)
        started = time.monotonic()
        for child in pool_children(stack.processes[label].pid):
            os.kill(child, signal.SIGKILL)
        job = stack.wait_for_job(client, job_id, timeout_s=240)
        elapsed = time.monotonic() - started
    assert job["status"] == "succeeded", (job, stack.logs())
    row = servers.job_row(job_id)
    assert row["attempts"] == 2 and row["celery_task_id"] == first["celery_task_id"], row
    assert servers.objects(f"jobs/{job_id}/outputs/") == {f"jobs/{job_id}/outputs/{n}" for n in STORED}
    print(f"pool child killed -> job succeeded after {elapsed:.1f} s")


def test_api_killed_mid_upload_leaves_no_job_and_no_file(
    faults: tuple[Faults, ServiceStack], real_clip: Path
) -> None:
    servers, stack = faults
    tmp_dir = Path(stack.env["DATA_DIR"]) / "tmp"
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        jobs_before = {job["id"] for job in client.get("/api/v1/jobs?limit=100").json()["items"]}
    objects_before = servers.objects()
    partial_before = set(tmp_dir.glob("upload-*.part"))
    boundary = uuid.uuid4().hex
    chunk = real_clip.read_bytes()[: 32 * 1024]

    def slow_body() -> Iterator[bytes]:
        yield (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.mp4"\r\n'
               "Content-Type: video/mp4\r\n\r\n").encode()  # fmt: skip
        for _ in range(600):  # about two minutes: far longer than the test waits
            yield chunk
            time.sleep(0.2)

    outcome: dict[str, object] = {}

    def upload() -> None:
        try:
            outcome["response"] = httpx.post(
                f"{stack.base_url}/api/v1/jobs", content=slow_body(), timeout=60,
                headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            )  # fmt: skip
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=upload, daemon=True)
    thread.start()

    def in_flight() -> bool:
        return any(p.stat().st_size > 64 * 1024 for p in set(tmp_dir.glob("upload-*.part")) - partial_before)

    wait_until(in_flight, 30, "upload in flight")
    stack.stop("api", signal.SIGKILL)
    thread.join(30)
    assert not thread.is_alive()
    assert "response" not in outcome, outcome
    assert isinstance(outcome["error"], httpx.TransportError), outcome  # a clear connection error

    stack.start_api()
    with httpx.Client(base_url=stack.base_url, timeout=30) as client:
        assert {job["id"] for job in client.get("/api/v1/jobs?limit=100").json()["items"]} == jobs_before
    assert servers.objects() == objects_before  # nothing reached storage

    # The dead process left its partial file; beat's retention run sweeps it once it is old enough.
    partial = set(tmp_dir.glob("upload-*.part")) - partial_before
    assert len(partial) == 1
    hours_ago = time.time() - 7200
    for path in partial:
        os.utime(path, (hours_ago, hours_ago))
    wait_until(
        lambda: not any(p.exists() for p in partial), 3 * MAINTENANCE_INTERVAL_S, "partial upload swept"
    )

    run_to_success(stack, real_clip)  # the restarted API serves normally


def test_redis_restarted(faults: tuple[Faults, ServiceStack], real_clip: Path) -> None:
    servers, stack = faults
    servers.redis.stop()
    try:
        assert ready(stack) == 503
        refused = submit(stack, real_clip)
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "queue_unavailable"
    finally:
        servers.redis.start()
    wait_until(lambda: ready(stack) == 200, 60, "API ready", interval_s=1)
    probe = f"http://127.0.0.1:{stack.env['WORKER_METRICS_PORT']}/health/ready"
    wait_until(lambda: httpx.get(probe, timeout=10).status_code == 200, 60, "worker ready", interval_s=1)
    started = time.monotonic()
    run_to_success(stack, real_clip, timeout_s=120)
    run_to_success(stack, real_clip, timeout_s=120)
    print(f"after the Redis restart: two jobs succeeded in {time.monotonic() - started:.1f} s")


def test_queued_message_lost_with_redis_is_resent(
    faults: tuple[Faults, ServiceStack], real_clip: Path
) -> None:
    """Redis runs without persistence: a restart loses the messages of queued jobs. Beat re-sends a
    job still `queued` after STUCK_JOB_TIMEOUT_S, and it runs once."""
    import redis

    servers, stack = faults
    label = next(name for name in stack.processes if name.startswith("worker"))
    stack.stop(label)  # idle: nobody consumes, the message waits in Redis
    response = submit(stack, real_clip)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    client = redis.Redis.from_url(servers.redis.url)

    def waiting() -> bool:  # the job's message is in the `cpu` list (beside beat's maintenance ones)
        return any(job_id.encode() in message for message in client.lrange("cpu", 0, -1))

    assert waiting()
    servers.redis.stop()
    servers.redis.start()
    assert not waiting()  # the message is gone; the job row still says `queued`
    client.close()
    servers.sql(
        "UPDATE jobs SET updated_at = updated_at - make_interval(secs => %s) WHERE id = %s",
        STUCK_JOB_TIMEOUT_S + 5,
        uuid.UUID(job_id),
    )  # as if it had waited STUCK_JOB_TIMEOUT_S
    started = time.monotonic()
    stack.start_worker("worker-r")
    with stack.client() as http:
        job = stack.wait_for_job(http, job_id, timeout_s=120)
    assert job["status"] == "succeeded", (job, stack.logs())
    assert servers.job_row(job_id)["attempts"] == 1
    print(f"lost message re-sent -> job succeeded after {time.monotonic() - started:.1f} s")


def test_postgres_restarted(faults: tuple[Faults, ServiceStack], real_clip: Path) -> None:
    servers, stack = faults
    servers.postgres.stop()
    try:
        assert ready(stack) == 503
        history = httpx.get(f"{stack.base_url}/api/v1/jobs", timeout=30)
        assert history.status_code == 503
        assert history.json()["error"]["code"] == "database_unavailable"
    finally:
        servers.postgres.start()
    wait_until(lambda: ready(stack) == 200, 60, "API ready", interval_s=1)
    run_to_success(stack, real_clip, timeout_s=120)


def test_s3_down_for_30_s_job_retries_then_succeeds(
    faults: tuple[Faults, ServiceStack], real_clip: Path
) -> None:
    servers, stack = faults
    label = next(name for name in stack.processes if name.startswith("worker"))
    stack.stop(label)  # idle: a quick warm shutdown, so the job waits in the queue
    response = submit(stack, real_clip)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    servers.s3.stop()
    down_at = time.monotonic()
    try:
        stack.start_worker("worker-s3")
        # The worker claims the job, cannot download its input and retries with backoff (2, 4, 8 s...).
        wait_until(lambda: servers.job_row(job_id)["attempts"] >= 3, 60, "retries while S3 is down", 1)
        assert servers.job_row(job_id)["status"] == "running"
        time.sleep(max(0.0, 30 - (time.monotonic() - down_at)))
    finally:
        servers.s3.start()
    with stack.client() as client:
        job = stack.wait_for_job(client, job_id, timeout_s=180)
    assert job["status"] == "succeeded", (job, stack.logs())
    assert set(job["outputs"]) == OUTPUTS
    row = servers.job_row(job_id)
    assert row["attempts"] >= 3, row
    assert "transient error" in (stack.workdir / "worker-s3.log").read_text()
    elapsed = time.monotonic() - down_at
    print(f"S3 down 30 s: job succeeded {elapsed:.1f} s after S3 stopped, {row['attempts']} attempts")
