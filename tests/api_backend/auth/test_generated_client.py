"""An integrator's path: a client generated from the running server's /openapi.json (by
openapi-python-client) submits a video with an API key, waits, downloads, and reads typed errors."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.api_backend.auth.test_auth_limits_webhooks import new_key
from tests.deploy.conftest import tool
from tests.support.stack import ServiceStack

PACKAGE = "shadow_trainer_generated"


@pytest.fixture(scope="module")
def generated(secure_stack: ServiceStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    folder = tmp_path_factory.mktemp("generated")
    spec = folder / "openapi.json"
    spec.write_text(httpx.get(f"{secure_stack.base_url}/openapi.json", timeout=30).text)
    result = subprocess.run(
        [tool("openapi-python-client"), "generate", "--path", str(spec), "--meta", "none",
         "--output-path", str(folder / PACKAGE)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))


def module(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{name}")


def test_a_generated_client_submits_waits_and_downloads(
    generated: ModuleType, secure_stack: ServiceStack, real_clip: Path
) -> None:
    token = new_key(secure_stack, "generated")["Authorization"].removeprefix("Bearer ")
    client = generated.AuthenticatedClient(
        base_url=secure_stack.base_url, token=token, timeout=httpx.Timeout(60)
    )
    create_job, get_job = module("api.jobs.create_job"), module("api.jobs.get_job")
    models, types = module("models"), module("types")
    with real_clip.open("rb") as handle:
        body = models.CreateJobBody(
            file=types.File(payload=handle, file_name="clip.mp4", mime_type="video/mp4"),
            device=models.CreateJobBodyDevice.CPU,
        )
        created = create_job.sync_detailed(client=client, body=body)
    assert created.status_code == 202, created.content
    job = created.parsed
    assert isinstance(job, models.JobOut) and job.status == models.JobStatus.QUEUED
    deadline = time.monotonic() + 300
    while job.status.value not in ("succeeded", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = get_job.sync(client=client, job_id=str(job.id))
    assert job.status == models.JobStatus.SUCCEEDED
    download = module("api.jobs.download_output").sync_detailed(
        client=client, job_id=str(job.id), name="summary.json"
    )
    assert download.status_code == 200 and json.loads(download.content)["frames_analyzed"] == 20
    missing = get_job.sync(client=client, job_id="00000000-0000-4000-8000-000000000000")
    assert isinstance(missing, models.ErrorOut) and missing.error.code == "job_not_found"
