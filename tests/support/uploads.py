"""Submitting a video the way a client does (multipart `POST /api/v1/jobs`), for every tier: an
`httpx.Client` on a real stack or the in-process client."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.support.inprocess import InProcessClient

Poster = httpx.Client | InProcessClient


def post_video(
    client: Poster,
    video: Path | tuple[str, bytes],
    *,
    idempotency_key: str | None = None,
    **fields: str,
) -> httpx.Response:
    """The upload of `video` (a file, or a file name and its bytes) with the form's other fields
    (an API key goes in the client's headers)."""
    sent = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    if isinstance(video, Path):
        with video.open("rb") as handle:
            files = {"file": (video.name, handle, "video/mp4")}
            return client.post("/api/v1/jobs", files=files, data=fields, headers=sent)
    name, content = video
    return client.post(
        "/api/v1/jobs", files={"file": (name, content, "video/mp4")}, data=fields, headers=sent
    )


def submit_video(client: Poster, video: Path, **options: Any) -> dict[str, Any]:
    """Upload and insist it was accepted (202); returns the job."""
    response = post_video(client, video, **options)
    assert response.status_code == 202, response.text
    job: dict[str, Any] = response.json()
    return job
