"""A typed Python client for the Shadow Trainer REST API (httpx only: no engine, no service).

    from shadow_trainer_client import Client

    with Client("https://boxing.example.com", api_key="st_...") as client:
        job = client.submit("sparring.mp4", wait=True, progress=lambda job: print(job.stage, job.progress))
        client.download(job, "summary.json", "summary.json")

`AsyncClient` has the same methods, awaitable.
"""

from shadow_trainer_client.client import AsyncClient, Client
from shadow_trainer_client.models import ApiError, Job, JobError, JobFailed

__all__ = ["ApiError", "AsyncClient", "Client", "Job", "JobError", "JobFailed"]
