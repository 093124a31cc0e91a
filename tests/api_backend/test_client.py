"""The Python client and `shadow-trainer submit`, against the real embedded service."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

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
            job = await client.submit(real_clip, device="cpu", wait=True)
            return job, await client.download(job, "punches.json", tmp_path / "punches.json")

    job, punches = asyncio.run(run())
    assert job.status == "succeeded"
    assert json.loads(punches.read_text())["punches"] == []  # people walking


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
    result = subprocess.run([*submit, "--wait", "--out", str(out), "--device", "cpu"], cwd=PROJECT_ROOT,
                            capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
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
