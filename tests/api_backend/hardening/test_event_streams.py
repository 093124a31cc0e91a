"""Event streams never starve other tenants: no pinned database connections, a cap per owner, and
a revoked key's stream ends. Against PostgreSQL (pool 5 + 10) and Redis, with no worker, so jobs
stay queued and their streams stay open."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from tests.api_backend.hardening.conftest import STREAM_LIMIT as LIMIT
from tests.api_backend.hardening.conftest import new_key, queued_job
from tests.support.stack import ServiceStack

STREAMS = 20  # more than the pool's 15 connections


async def hold_streams(
    stack: ServiceStack,
    headers: dict[str, str],
    job_id: str,
    count: int,
    all_open: asyncio.Event,
    release: asyncio.Event,
) -> list[int]:
    """Open ``count`` streams (each reads its first event), set ``all_open``, keep them until ``release``."""
    opened: list[int] = []
    ready = asyncio.Semaphore(0)

    async def one(client: httpx.AsyncClient) -> None:
        async with client.stream("GET", f"/api/v1/jobs/{job_id}/events") as response:
            opened.append(response.status_code)
            if response.status_code == 200:
                # Not `async for … break`: leaving the loop closes the generator, and with it the stream.
                lines = response.aiter_lines()
                while not (await anext(lines)).startswith("event: job"):
                    pass
            ready.release()
            await release.wait()

    limits = httpx.Limits(max_connections=count + 5)
    async with httpx.AsyncClient(
        base_url=stack.base_url, headers=headers, timeout=60, limits=limits
    ) as client:
        tasks = [asyncio.create_task(one(client)) for _ in range(count)]
        for _ in range(count):
            await ready.acquire()
        all_open.set()
        await asyncio.gather(*tasks)
    return opened


def test_open_streams_do_not_slow_other_owners(queued_stack: ServiceStack, real_clip: Path) -> None:
    _, streamer = new_key(queued_stack, "streamer")
    _, other = new_key(queued_stack, "other")
    job_id = queued_job(queued_stack, streamer, real_clip)
    latencies: list[float] = []

    async def scenario() -> list[int]:
        all_open, release = asyncio.Event(), asyncio.Event()
        held = asyncio.create_task(hold_streams(queued_stack, streamer, job_id, STREAMS, all_open, release))
        await all_open.wait()
        async with httpx.AsyncClient(base_url=queued_stack.base_url, headers=other, timeout=60) as client:
            for path in ("/api/v1/jobs", "/health/ready") * 5:
                start = time.monotonic()
                response = await client.get(path)
                latencies.append(time.monotonic() - start)
                assert response.status_code == 200, response.text
        release.set()
        return await held

    opened = asyncio.run(scenario())
    assert opened == [200] * STREAMS
    assert max(latencies) < 1.0, latencies


def test_streams_per_owner_are_capped(queued_stack: ServiceStack, real_clip: Path) -> None:
    _, headers = new_key(queued_stack, "greedy")
    job_id = queued_job(queued_stack, headers, real_clip)

    async def scenario() -> tuple[list[int], int, int]:
        all_open, release = asyncio.Event(), asyncio.Event()
        held = asyncio.create_task(hold_streams(queued_stack, headers, job_id, LIMIT, all_open, release))
        await all_open.wait()
        async with httpx.AsyncClient(base_url=queued_stack.base_url, headers=headers, timeout=30) as client:
            over = await client.get(f"/api/v1/jobs/{job_id}/events")
            assert over.json()["error"]["code"] == "too_many_streams"
            assert int(over.headers["retry-after"]) > 0
            release.set()
            opened = await held
            # The slots come back when the streams close.
            again = time.monotonic()
            while time.monotonic() - again < 10:
                async with client.stream("GET", f"/api/v1/jobs/{job_id}/events") as response:
                    if response.status_code == 200:
                        return opened, over.status_code, 200
                await asyncio.sleep(0.2)
            return opened, over.status_code, 429

    opened, over, after = asyncio.run(scenario())
    assert opened == [200] * LIMIT
    assert (over, after) == (429, 200)


def test_a_revoked_keys_stream_ends(queued_stack: ServiceStack, real_clip: Path) -> None:
    key, headers = new_key(queued_stack, "revoked")
    job_id = queued_job(queued_stack, headers, real_clip)
    with httpx.stream("GET", f"{queued_stack.base_url}/api/v1/jobs/{job_id}/events", headers=headers,
                      timeout=30) as response:  # fmt: skip
        assert response.status_code == 200
        lines = response.iter_lines()
        assert any(line.startswith("event: job") for line in lines)
        result = queued_stack.cli("keys", "revoke", key[:11])
        assert result.returncode == 0, result.stderr
        start = time.monotonic()
        rest = list(lines)  # the server ends the stream
    assert time.monotonic() - start < 10
    assert "event: end" in rest and 'data: {"status": "gone"}' in rest
