"""Each health layer answers correctly with PostgreSQL, Redis or the S3 server stopped, and the
service recovers when they come back. Private servers, so stopping them disturbs no other test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.services import PrivateServers, started, wait_until
from tests.support.stack import ServiceStack, running_stack

pytestmark = pytest.mark.slow  # starts the service as processes


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PrivateServers, ServiceStack]]:
    tmp = tmp_path_factory.mktemp("faults")
    with started(PrivateServers(tmp)) as servers, running_stack("faults", tmp, servers.env()) as stack:
        yield servers, stack


def api(stack: ServiceStack, path: str) -> httpx.Response:
    return httpx.get(f"{stack.base_url}{path}", timeout=30)


def worker(stack: ServiceStack, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{stack.env['WORKER_METRICS_PORT']}{path}", timeout=30)


def wait_ready(stack: ServiceStack) -> None:
    wait_until(lambda: api(stack, "/health/ready").status_code == 200, 60, "API ready again", interval_s=1)
    wait_until(
        lambda: worker(stack, "/health/ready").status_code == 200, 60, "worker ready again", interval_s=1
    )


def test_everything_up(faults: tuple[PrivateServers, ServiceStack]) -> None:
    _, stack = faults
    assert api(stack, "/health/ready").status_code == 200
    detailed = api(stack, "/health/detailed").json()
    for name in ("database", "broker", "storage", "models"):
        assert detailed["checks"][name]["status"] == "healthy", detailed
        assert detailed["checks"][name]["latency_ms"] >= 0
    assert detailed["checks"]["workers"]["status"] == "degraded"  # a CPU worker, no GPU worker
    workers = detailed["checks"]["workers"]["workers"]  # which workers, with a GPU or not, since when
    assert [w["queues"] for w in workers if "cpu" in w["queues"]] and not any(w["gpu"] for w in workers)
    assert all(w["up_since"] <= w["last_seen"] for w in workers)
    assert detailed["status"] == "degraded"


def test_redis_stopped(faults: tuple[PrivateServers, ServiceStack]) -> None:
    servers, stack = faults
    servers.redis.stop()
    try:
        assert api(stack, "/health/live").status_code == 200
        ready = api(stack, "/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["broker"]["status"] == "unhealthy"
        assert ready.json()["checks"]["database"]["status"] == "healthy"
        detailed = api(stack, "/health/detailed")
        assert detailed.status_code == 503
        assert detailed.json()["status"] == "unhealthy"
        assert worker(stack, "/health/live").status_code == 200
        assert worker(stack, "/health/ready").status_code == 503
    finally:
        servers.redis.start()
    wait_ready(stack)


def test_postgres_stopped(faults: tuple[PrivateServers, ServiceStack]) -> None:
    servers, stack = faults
    servers.postgres.stop()
    try:
        assert api(stack, "/health/live").status_code == 200
        ready = api(stack, "/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"]["status"] == "unhealthy"
        history = api(stack, "/api/v1/jobs")
        assert history.status_code == 503
        assert history.json()["error"]["code"] == "database_unavailable"
        assert worker(stack, "/health/ready").status_code == 503
    finally:
        servers.postgres.start()
    wait_ready(stack)
    assert api(stack, "/api/v1/jobs").status_code == 200


def test_s3_stopped(faults: tuple[PrivateServers, ServiceStack], real_clip: Path) -> None:
    servers, stack = faults
    servers.s3.stop()
    try:
        assert api(stack, "/health/ready").status_code == 200, "S3 is not needed to serve status"
        detailed = api(stack, "/health/detailed").json()
        assert detailed["checks"]["storage"]["status"] == "unhealthy"
        assert detailed["status"] == "unhealthy"
        with real_clip.open("rb") as handle:
            upload = httpx.post(
                f"{stack.base_url}/api/v1/jobs", files={"file": ("c.mp4", handle)}, timeout=120
            )
        assert upload.status_code == 503
        assert upload.json()["error"]["code"] == "storage_unavailable"
    finally:
        servers.s3.start()
    assert api(stack, "/health/detailed").json()["checks"]["storage"]["status"] == "healthy"
