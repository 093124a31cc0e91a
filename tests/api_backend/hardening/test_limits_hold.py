"""Limits that concurrency cannot get past."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from tests.api_backend.hardening.conftest import JOBS_LIMIT, new_key
from tests.support.stack import ServiceStack


def test_concurrent_uploads_cannot_exceed_the_jobs_in_flight(
    queued_stack: ServiceStack, real_clip: Path
) -> None:
    _, headers = new_key(queued_stack, "rush")
    body = real_clip.read_bytes()

    async def rush() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=2 * JOBS_LIMIT)
        async with httpx.AsyncClient(base_url=queued_stack.base_url, headers=headers, timeout=120,
                                     limits=limits) as client:  # fmt: skip
            files = {"file": ("clip.mp4", body, "video/mp4")}
            posts = [
                client.post("/api/v1/jobs", files=files, data={"device": "cpu"})
                for _ in range(2 * JOBS_LIMIT)
            ]
            return list(await asyncio.gather(*posts))

    answers = asyncio.run(rush())
    codes = sorted(r.status_code for r in answers)
    assert codes == [202] * JOBS_LIMIT + [429] * JOBS_LIMIT, [r.text for r in answers if r.status_code != 202]
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 429} == {"too_many_jobs"}
    listed = httpx.get(f"{queued_stack.base_url}/api/v1/jobs", headers=headers, params={"limit": 100}).json()
    assert len(listed["items"]) == JOBS_LIMIT  # the refused ones left no job behind
