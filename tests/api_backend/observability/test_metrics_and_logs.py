"""A real run moves the API's and the worker's counters, and every log line carries the ids."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.support.stack import ServiceStack


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one Prometheus sample, matching the given labels (others may be present)."""
    total = 0.0
    for line in metrics.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{key}="{value}"' in line for key, value in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_a_job_moves_api_and_worker_metrics_and_logs_carry_ids(
    distributed_stack: ServiceStack, real_clip: Path
) -> None:
    stack = distributed_stack
    worker_metrics_url = f"http://127.0.0.1:{stack.env['WORKER_METRICS_PORT']}/metrics"
    with stack.client() as client:
        before_api = client.get("/metrics").text
        before_worker = httpx.get(worker_metrics_url).text
        with real_clip.open("rb") as handle:
            created = client.post("/api/v1/jobs", files={"file": ("clip.mp4", handle, "video/mp4")},
                                  headers={"X-Request-ID": "req-observability-1"})  # fmt: skip
        assert created.status_code == 202
        assert created.headers["x-request-id"] == "req-observability-1"
        job_id = created.json()["id"]
        assert stack.wait_for_job(client, job_id)["status"] == "succeeded"
        after_api = client.get("/metrics").text
    after_worker = httpx.get(worker_metrics_url).text

    route = {"method": "POST", "route": "/api/v1/jobs", "status": "202"}
    assert (
        sample(after_api, "http_requests_total", **route)
        == sample(before_api, "http_requests_total", **route) + 1
    )
    assert (
        sample(after_api, "upload_bytes_total")
        >= sample(before_api, "upload_bytes_total") + real_clip.stat().st_size
    )
    assert sample(after_api, "jobs_created_total", queue="cpu") >= 1
    assert sample(after_api, "http_request_duration_seconds_count", route="/api/v1/jobs/{job_id}") >= 1

    done = {"queue": "cpu", "status": "succeeded"}
    assert (
        sample(after_worker, "shadow_jobs_finished_total", **done)
        == sample(before_worker, "shadow_jobs_finished_total", **done) + 1
    )
    assert sample(after_worker, "shadow_jobs_started_total", queue="cpu") >= 1
    assert sample(after_worker, "shadow_job_duration_seconds_count", **done) >= 1
    assert sample(after_worker, "shadow_job_frames_per_second_count", queue="cpu") >= 1
    for stage in ("loading_model", "analyzing", "uploading"):
        assert sample(after_worker, "shadow_job_stage_duration_seconds_count", stage=stage) >= 1, stage
    assert sample(after_worker, "shadow_model_load_seconds_count", queue="cpu") >= 1
    assert re.search(r'^shadow_queue_length\{queue="cpu"\} 0\.0$', after_worker, re.M), "queue drained"

    worker_lines = [json.loads(line) for line in (stack.workdir / "worker.log").read_text().splitlines()
                    if line.startswith("{")]  # fmt: skip
    job_lines = [line for line in worker_lines if line.get("job_id") == job_id]
    assert job_lines, "the worker logged the job"
    assert all(line["request_id"] == "req-observability-1" for line in job_lines)
    api_lines = [json.loads(line) for line in (stack.workdir / "api.log").read_text().splitlines()
                 if line.startswith("{")]  # fmt: skip
    assert any(
        line.get("request_id") == "req-observability-1" and line.get("status") == 202 for line in api_lines
    )


def test_worker_probes(distributed_stack: ServiceStack) -> None:
    base = f"http://127.0.0.1:{distributed_stack.env['WORKER_METRICS_PORT']}"
    assert httpx.get(f"{base}/health/live").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/health/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"]["broker"]["status"] == "healthy"


def test_request_id_is_made_when_missing_or_unsafe(distributed_stack: ServiceStack) -> None:
    with distributed_stack.client() as client:
        made = client.get("/health/live").headers["x-request-id"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)
        unsafe = client.get("/health/live", headers={"X-Request-ID": "bad id <script>"})
        assert unsafe.headers["x-request-id"] != "bad id <script>"
