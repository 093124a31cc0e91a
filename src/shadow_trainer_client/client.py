"""Sync and async clients. Requests are built and answers read by the shared helpers below, so the
two classes only differ in how they wait for I/O."""

from __future__ import annotations

import asyncio
import mimetypes
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict, Unpack

import httpx

from shadow_trainer_client.models import ApiError, Job, JobFailed
from shadow_trainer_client.resumable import TUS, ChunkNotTaken, ResumableUpload

ProgressFn = Callable[[Job], None]
POLL_S = 1.0


def _headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


class SubmitOptions(TypedDict, total=False):
    model: str  # a pose model the server has (default: the server's)
    device: str  # auto | cpu | gpu
    callback_url: str  # a webhook when the job ends
    idempotency_key: str  # a retry with the same key and file returns the same job
    wait: bool  # return once the job ended (JobFailed unless it succeeded)
    progress: ProgressFn  # called with the job on every change while waiting
    timeout_s: float  # give up waiting after this long (TimeoutError)
    resumable: bool  # send the file in chunks (tus) that survive dropped connections; needed for big files
    chunk_bytes: int  # with resumable: bytes per chunk (default: the server's largest)


FORM_FIELDS = ("model", "device", "callback_url")


RETRYABLE = (httpx.TransportError, ChunkNotTaken)


def _fields(options: SubmitOptions) -> dict[str, str]:
    return {name: str(options[name]) for name in FORM_FIELDS if options.get(name)}  # type: ignore[literal-required]


def _request(options: SubmitOptions) -> dict[str, Any]:
    """The form fields and headers of an upload."""
    key = options.get("idempotency_key")
    return {"data": _fields(options), "headers": {"Idempotency-Key": key} if key else {}}


def _chunk_bytes(config: httpx.Response) -> int:
    return int(_checked(config).json()["resumable_chunk_bytes"])


def _file_part(path: Path, content: Any) -> dict[str, tuple[str, Any, str]]:
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return {"file": (path.name, content, media_type)}


def _checked(response: httpx.Response) -> httpx.Response:
    """The response, unless it is an error answer (then ApiError; a streamed body must be read first)."""
    if response.status_code >= 400:
        raise ApiError.from_response(response)
    return response


def _job(response: httpx.Response) -> Job:
    return Job.from_json(_checked(response).json())


class _Poll:
    """One job being waited for: remembers its ETag, so an unchanged job costs a 304."""

    def __init__(self, job: Job, progress: ProgressFn | None, timeout_s: float | None) -> None:
        self.job, self.progress, self.etag = job, progress, ""
        self.deadline = None if timeout_s is None else time.monotonic() + timeout_s

    def headers(self) -> dict[str, str]:
        return {"If-None-Match": self.etag} if self.etag else {}

    def read(self, response: httpx.Response) -> None:
        if response.status_code != 304:
            self.job = _job(response)
            self.etag = response.headers.get("etag", "")
            if self.progress is not None:
                self.progress(self.job)
        if self.deadline is not None and time.monotonic() > self.deadline and not self.job.done:
            raise TimeoutError(f"job {self.job.id} still {self.job.status} after the timeout")

    def result(self) -> Job:
        if self.job.status != "succeeded":
            raise JobFailed(self.job)
        return self.job


class Client:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        transport: httpx.BaseTransport | None = None,  # e.g. a proxy's, or retries of its own
    ) -> None:
        self.http = httpx.Client(
            base_url=base_url, headers=_headers(api_key), timeout=timeout, transport=transport
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def submit(self, path: str | Path, **options: Unpack[SubmitOptions]) -> Job:
        """Upload a video; with ``wait=True``, return once it succeeded (JobFailed otherwise)."""
        path = Path(path)
        if options.get("resumable"):
            job = _job(self._send_resumable(path, options))
        else:
            with path.open("rb") as handle:
                job = _job(
                    self.http.post("/api/v1/jobs", files=_file_part(path, handle), **_request(options))
                )
        if not options.get("wait"):
            return job
        return self.wait(job.id, progress=options.get("progress"), timeout_s=options.get("timeout_s"))

    def _send_resumable(self, path: Path, options: SubmitOptions) -> httpx.Response:
        chunk = options.get("chunk_bytes") or _chunk_bytes(self.http.get("/api/v1/config"))
        upload = ResumableUpload(path, chunk)
        upload.created(self.http.post("/api/v1/uploads", **upload.creation()))
        while not upload.done:
            try:
                if upload.unsure:
                    upload.resumed(self.http.head(upload.url, headers=TUS))
                else:
                    upload.sent(self.http.patch(upload.url, **upload.next_chunk()))
            except RETRYABLE:
                time.sleep(upload.failed())
        return self.http.post(upload.job_url, json=_fields(options))

    def get(self, job_id: str) -> Job:
        return _job(self.http.get(f"/api/v1/jobs/{job_id}"))

    def wait(self, job_id: str, *, progress: ProgressFn | None = None, timeout_s: float | None = None) -> Job:
        poll = _Poll(self.get(job_id), progress, timeout_s)
        while not poll.job.done:
            time.sleep(POLL_S)
            poll.read(self.http.get(f"/api/v1/jobs/{job_id}", headers=poll.headers()))
        return poll.result()

    def cancel(self, job_id: str) -> Job:
        return _job(self.http.post(f"/api/v1/jobs/{job_id}/cancel"))

    def jobs(self, *, limit: int = 20, status: str | None = None) -> list[Job]:
        params: dict[str, Any] = {"limit": limit, **({"status": status} if status else {})}
        items = _checked(self.http.get("/api/v1/jobs", params=params)).json()["items"]
        return [Job.from_json(item) for item in items]

    def download(self, job: Job, name: str, dest: str | Path) -> Path:
        """Stream one output (its signed link, following a redirect to storage) to ``dest``."""
        dest = Path(dest)
        with self.http.stream("GET", job.outputs[name], follow_redirects=True) as response:
            if response.status_code >= 400:
                response.read()
                _checked(response)
            with dest.open("wb") as out:
                for chunk in response.iter_bytes():
                    out.write(chunk)
        return dest


class AsyncClient:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.http = httpx.AsyncClient(
            base_url=base_url, headers=_headers(api_key), timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def submit(self, path: str | Path, **options: Unpack[SubmitOptions]) -> Job:
        """As Client.submit. The plain upload reads the file into memory: send big ones resumable."""
        path = Path(path)
        if options.get("resumable"):
            job = _job(await self._send_resumable(path, options))
        else:
            files = _file_part(path, await asyncio.to_thread(path.read_bytes))
            job = _job(await self.http.post("/api/v1/jobs", files=files, **_request(options)))
        if not options.get("wait"):
            return job
        return await self.wait(job.id, progress=options.get("progress"), timeout_s=options.get("timeout_s"))

    async def _send_resumable(self, path: Path, options: SubmitOptions) -> httpx.Response:
        chunk = options.get("chunk_bytes") or _chunk_bytes(await self.http.get("/api/v1/config"))
        upload = ResumableUpload(path, chunk)
        upload.created(await self.http.post("/api/v1/uploads", **upload.creation()))
        while not upload.done:
            try:
                if upload.unsure:
                    upload.resumed(await self.http.head(upload.url, headers=TUS))
                else:
                    upload.sent(
                        await self.http.patch(upload.url, **await asyncio.to_thread(upload.next_chunk))
                    )
            except RETRYABLE:
                await asyncio.sleep(upload.failed())
        return await self.http.post(upload.job_url, json=_fields(options))

    async def get(self, job_id: str) -> Job:
        return _job(await self.http.get(f"/api/v1/jobs/{job_id}"))

    async def wait(
        self, job_id: str, *, progress: ProgressFn | None = None, timeout_s: float | None = None
    ) -> Job:
        poll = _Poll(await self.get(job_id), progress, timeout_s)
        while not poll.job.done:
            await asyncio.sleep(POLL_S)
            poll.read(await self.http.get(f"/api/v1/jobs/{job_id}", headers=poll.headers()))
        return poll.result()

    async def cancel(self, job_id: str) -> Job:
        return _job(await self.http.post(f"/api/v1/jobs/{job_id}/cancel"))

    async def download(self, job: Job, name: str, dest: str | Path) -> Path:
        dest = Path(dest)
        async with self.http.stream("GET", job.outputs[name], follow_redirects=True) as response:
            if response.status_code >= 400:
                await response.aread()
                _checked(response)
            with dest.open("wb") as out:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
        return dest
