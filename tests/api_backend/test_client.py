"""The Python client and `shadow-trainer submit`, against the real embedded service."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from shadow_trainer_client import ApiError, AsyncClient, Client, Job, JobFailed
from tests.support.hostile_media import growing_stream
from tests.support.stack import PROJECT_ROOT, ServiceStack


def test_submit_waits_reports_progress_and_downloads(
    embedded_stack: ServiceStack, real_clip: Path, tmp_path: Path
) -> None:
    seen: list[Job] = []
    with Client(embedded_stack.base_url) as client:
        job = client.submit(real_clip, device="cpu", wait=True, progress=seen.append)
        assert job.status == "succeeded" and job.error is None
        assert seen and seen[-1].status == "succeeded"
        assert [j.progress for j in seen] == sorted(j.progress for j in seen)
        summary = json.loads(client.download(job, "summary.json", tmp_path / "summary.json").read_text())
        assert summary["frames_analyzed"] == 20
        video = client.download(job, "annotated.mp4", tmp_path / "annotated.mp4")
        assert video.stat().st_size > 1000
        assert job.id in {j.id for j in client.jobs(limit=50)}


def test_the_async_client_does_the_same(
    embedded_stack: ServiceStack, real_clip: Path, tmp_path: Path
) -> None:
    async def run() -> tuple[Job, Path]:
        async with AsyncClient(embedded_stack.base_url) as client:
            # Resumable, in 64 KiB chunks: the file is read a chunk at a time, never whole.
            job = await client.submit(
                real_clip, device="cpu", wait=True, resumable=True, chunk_bytes=64 * 1024
            )
            return job, await client.download(job, "punches.json", tmp_path / "punches.json")

    job, punches = asyncio.run(run())
    assert job.status == "succeeded"
    assert json.loads(punches.read_text())["punches"] == []  # people walking


class LosesTheSecondChunk(httpx.HTTPTransport):
    """A connection that drops while the second chunk is on its way."""

    def __init__(self) -> None:
        super().__init__()
        self.offsets: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            self.offsets.append(int(request.headers["upload-offset"]))
            if len(self.offsets) == 2:
                raise httpx.WriteError("connection lost", request=request)
        return super().handle_request(request)


def test_a_resumable_submit_goes_on_after_a_lost_chunk(embedded_stack: ServiceStack, real_clip: Path) -> None:
    transport = LosesTheSecondChunk()
    chunk = 64 * 1024
    with Client(embedded_stack.base_url, transport=transport) as client:
        job = client.submit(real_clip, resumable=True, chunk_bytes=chunk, device="cpu")
        assert transport.offsets[:3] == [0, chunk, chunk], transport.offsets  # asked, then went on
        assert (job.filename, job.raw["size"]) == (real_clip.name, real_clip.stat().st_size)
        client.cancel(job.id)
        with pytest.raises(ApiError) as refused:
            client.submit(real_clip, resumable=True, model="no-such-model")
        assert (refused.value.status, refused.value.code) == (422, "unknown_model")


def test_errors_are_typed(embedded_stack: ServiceStack, real_clip: Path, tmp_path: Path) -> None:
    with Client(embedded_stack.base_url) as client:
        with pytest.raises(ApiError) as refused:
            client.submit(real_clip, model="no-such-model")
        assert (refused.value.status, refused.value.code) == (422, "unknown_model")
        assert "yolo11n-pose" in refused.value.details[0]["available"]
        with pytest.raises(JobFailed) as failed:
            client.submit(growing_stream(tmp_path / "grow"), wait=True)
        assert failed.value.job.error and failed.value.job.error.code == "resolution_too_high"


def test_submit_command_waits_and_downloads(
    embedded_stack: ServiceStack, real_clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    submit = [
        sys.executable,
        "-m",
        "api_backend.cli",
        "submit",
        str(real_clip),
        "--server",
        embedded_stack.base_url,
    ]
    command = [*submit, "--resumable", "--wait", "--out", str(out), "--device", "cpu"]
    result = subprocess.run(
        command, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "succeeded"
    assert sorted(p.name for p in out.iterdir()) == [
        "annotated.mp4",
        "keypoints.json",
        "punches.json",
        "summary.json",
    ]
    refused = subprocess.run([*submit, "--model", "no-such-model"], cwd=PROJECT_ROOT, capture_output=True,
                             text=True, timeout=120, check=False)  # fmt: skip
    assert refused.returncode == 2 and "unknown_model" in refused.stderr
