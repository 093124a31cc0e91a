"""One resumable (tus 1.0) upload: what to send next, from what the server says it has.

The sync and async clients drive it; they differ only in how they wait. A chunk that fails on the way
(a dropped connection, a 5xx, a busy upload) is not sent again blindly: the client waits, asks the
server how much arrived (HEAD), and goes on from there.
"""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any

import httpx

from shadow_trainer_client.models import ApiError

TUS = {"Tus-Resumable": "1.0.0"}
# Seconds to wait after each consecutive failure; then the upload gives up (about five minutes in all).
RETRY_DELAYS_S = (1, 2, 5, 10, 20, 30, 60, 60, 60, 60)
RETRYABLE_STATUSES = {409, 423, 429, 500, 502, 503, 504}


class ChunkNotTaken(Exception):
    """An answer worth retrying after a pause (the server or the upload was busy)."""


def _metadata(path: Path) -> str:
    fields = {
        "filename": path.name,
        "filetype": mimetypes.guess_type(path.name)[0] or "application/octet-stream",
    }
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items())


class ResumableUpload:
    def __init__(self, path: Path, chunk_bytes: int) -> None:
        self.path, self.chunk_bytes = path, chunk_bytes
        self.size = path.stat().st_size
        self.url = ""
        self.offset = 0
        self.failures = 0
        self.unsure = False  # a chunk failed: ask the server for the offset before the next one

    @property
    def done(self) -> bool:
        return bool(self.url) and not self.unsure and self.offset >= self.size

    @property
    def job_url(self) -> str:
        return f"{self.url}/job"

    def creation(self) -> dict[str, Any]:
        """Keyword arguments of the creation POST."""
        return {"headers": {**TUS, "Upload-Length": str(self.size), "Upload-Metadata": _metadata(self.path)}}

    def created(self, response: httpx.Response) -> None:
        if response.status_code != 201:
            raise ApiError.from_response(response)
        self.url = str(response.url.join(response.headers["location"]))

    def next_chunk(self) -> dict[str, Any]:
        """Keyword arguments of the PATCH with the next chunk (read from the file, never all of it)."""
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            data = handle.read(self.chunk_bytes)
        headers = {
            **TUS,
            "Upload-Offset": str(self.offset),
            "Content-Type": "application/offset+octet-stream",
        }
        return {"content": data, "headers": headers}

    def sent(self, response: httpx.Response) -> None:
        self._raise_unless_ok(response, 204)
        self.offset, self.failures = int(response.headers["upload-offset"]), 0

    def resumed(self, response: httpx.Response) -> None:
        """The HEAD's answer: how much of the file the server has."""
        self._raise_unless_ok(response, 200)
        self.offset, self.unsure = int(response.headers["upload-offset"]), False

    def failed(self) -> float:
        """A request failed in a way worth retrying: the seconds to wait, or the error once it is hopeless."""
        self.unsure = True
        self.failures += 1
        if self.failures > len(RETRY_DELAYS_S):
            raise ApiError(
                0, "upload_interrupted", f"the upload stopped at {self.offset} of {self.size} bytes"
            )
        return RETRY_DELAYS_S[self.failures - 1]

    @staticmethod
    def _raise_unless_ok(response: httpx.Response, expected: int) -> None:
        if response.status_code == expected:
            return
        if response.status_code in RETRYABLE_STATUSES:
            raise ChunkNotTaken(response.status_code)
        raise ApiError.from_response(response)
