"""A stack on PostgreSQL and Redis with API keys and no worker: jobs stay queued, so limits on what an
owner holds at once (jobs in flight, open event streams) can be filled and probed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.services import RedisServer, postgres_database, started
from tests.support.stack import ServiceStack

STREAM_LIMIT = 24
JOBS_LIMIT = 10
REQUESTS_LIMIT = 150  # a minute, per key or address
AUTH_FAILURES_LIMIT = 10  # a minute, per address
# The proxy uvicorn trusts for X-Forwarded-For: not the tests' own address, so their headers are lies.
PROXY = "10.9.9.9"


@pytest.fixture(scope="package")
def queued_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceStack]:
    redis = RedisServer(tmp_path_factory.mktemp("redis"))
    with postgres_database() as database, started(redis):
        env = {
            "AUTH_MODE": "api_key", "DATABASE_URL": database, "REDIS_URL": redis.url,
            "MAX_EVENT_STREAMS": str(STREAM_LIMIT), "MAX_JOBS_IN_FLIGHT": str(JOBS_LIMIT),
            "RATE_LIMIT_PER_MINUTE": str(REQUESTS_LIMIT),
            "AUTH_FAILURES_PER_MINUTE": str(AUTH_FAILURES_LIMIT), "FORWARDED_ALLOW_IPS": PROXY,
        }  # fmt: skip
        stack = ServiceStack("queued", tmp_path_factory.mktemp("queued"), env)
        try:
            stack.migrate()
            stack.start_api()
            yield stack
        finally:
            stack.stop_all()


def new_key(stack: ServiceStack, name: str, owner: str | None = None) -> tuple[str, dict[str, str]]:
    result = stack.cli("keys", "create", name, *(["--owner", owner] if owner else []))
    assert result.returncode == 0, result.stderr
    key = result.stdout.strip()
    return key, {"Authorization": f"Bearer {key}"}


def queued_job(stack: ServiceStack, headers: dict[str, str], clip: Path) -> str:
    with clip.open("rb") as handle:
        files = {"file": (clip.name, handle, "video/mp4")}
        url = f"{stack.base_url}/api/v1/jobs"
        response = httpx.post(url, headers=headers, timeout=60, files=files, data={"device": "cpu"})
    assert response.status_code == 202, response.text
    return str(response.json()["id"])
