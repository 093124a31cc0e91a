"""Resumable (tus) uploads, driven by a real tus client (tuspy) against the running service.

On both stacks: the embedded default keeps unfinished uploads in a local folder, the distributed one
streams them into an S3 multipart upload with a Redis lock per upload.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from tusclient import client as tus_client

from tests.support.services import wait_until
from tests.support.stack import ServiceStack

TUS = {"Tus-Resumable": "1.0.0"}
CHUNK = 64 * 1024


def tus_metadata(**fields: str) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items())


def create_upload(client: httpx.Client, size: int, filename: str = "people.mp4") -> str:
    """The tus creation request; returns the upload id."""
    headers = {**TUS, "Upload-Length": str(size), "Upload-Metadata": tus_metadata(filename=filename,
               filetype="video/mp4")}  # fmt: skip
    created = client.post("/api/v1/uploads", headers=headers)
    assert created.status_code == 201, created.text
    return created.headers["location"].rstrip("/").rsplit("/", 1)[-1]


def upload_with_tuspy(stack: ServiceStack, video: Path, url: str | None = None) -> str:
    """The whole file with tuspy, 64 KiB a PATCH (resuming `url` from its offset when given)."""
    client = tus_client.TusClient(f"{stack.base_url}/api/v1/uploads")
    uploader = client.uploader(str(video), url=url, chunk_size=CHUNK,
                               metadata={"filename": video.name, "filetype": "video/mp4"})  # fmt: skip
    uploader.upload()
    assert uploader.url is not None
    return uploader.url.rstrip("/").rsplit("/", 1)[-1]


def offset_of(client: httpx.Client, upload_id: str) -> int:
    head = client.head(f"/api/v1/uploads/{upload_id}", headers=TUS)
    assert head.status_code == 200, head.text
    return int(head.headers["upload-offset"])


def send_then_drop(client: httpx.Client, upload_id: str, data: bytes, sent: int) -> None:
    """A PATCH whose connection dies after `sent` of its bytes, as when a phone loses its signal."""

    def body() -> Iterator[bytes]:
        yield data[:sent]
        raise ConnectionResetError("signal lost")

    headers = {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream",
               "Content-Length": str(len(data))}  # fmt: skip
    with pytest.raises((httpx.HTTPError, ConnectionResetError)):
        client.patch(f"/api/v1/uploads/{upload_id}", content=body(), headers=headers)


def test_a_dropped_upload_resumes_and_becomes_a_job(stack: ServiceStack, real_clip: Path) -> None:
    data = real_clip.read_bytes()
    with stack.client() as client:
        upload_id = create_upload(client, len(data), real_clip.name)
        send_then_drop(client, upload_id, data, sent=len(data) // 2)
        # The server saves what arrived once it notices the dropped connection.
        wait_until(lambda: offset_of(client, upload_id) > 0, 10, "the partial chunk")
        assert offset_of(client, upload_id) <= len(data) // 2

        early = client.post(f"/api/v1/uploads/{upload_id}/job", json={})
        assert early.status_code == 409 and early.json()["error"]["code"] == "upload_incomplete"

        url = f"{stack.base_url}/api/v1/uploads/{upload_id}"
        assert upload_with_tuspy(stack, real_clip, url=url) == upload_id
        assert offset_of(client, upload_id) == len(data)

        created = client.post(f"/api/v1/uploads/{upload_id}/job", json={"device": "cpu"})
        assert created.status_code == 202, created.text
        job = created.json()
        assert created.headers["location"] == f"/api/v1/jobs/{job['id']}"
        assert (job["filename"], job["size"], job["video"]["frames"]) == (real_clip.name, len(data), 20)

        again = client.post(f"/api/v1/uploads/{upload_id}/job", json={"device": "cpu"})
        assert again.status_code == 200 and again.json()["id"] == job["id"]
        other = client.post(f"/api/v1/uploads/{upload_id}/job", json={"device": "gpu"})
        assert other.status_code == 409 and other.json()["error"]["code"] == "upload_already_used"
        gone = client.head(f"/api/v1/uploads/{upload_id}", headers=TUS)
        assert gone.status_code == 404, "the job holds the video now; the upload is removed"

        done = stack.wait_for_job(client, job["id"])
        assert done["status"] == "succeeded", (done, stack.logs())


def test_a_finished_upload_is_checked_like_a_posted_video(
    embedded_stack: ServiceStack, real_clip: Path, tmp_path: Path
) -> None:
    with embedded_stack.client() as client:
        upload_id = upload_with_tuspy(embedded_stack, real_clip)
        wrong = client.post(f"/api/v1/uploads/{upload_id}/job", json={"model": "no-such-model"})
        assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "unknown_model"
        assert offset_of(client, upload_id) == real_clip.stat().st_size, "kept for a corrected request"
        assert client.post(f"/api/v1/uploads/{upload_id}/job", json={}).status_code == 202

        noise = tmp_path / "noise.mp4"
        noise.write_bytes(bytes(range(256)) * 64)
        bad = client.post(f"/api/v1/uploads/{upload_with_tuspy(embedded_stack, noise)}/job", json={})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_video"
        assert "noise.mp4" in bad.json()["error"]["message"]


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({"Upload-Length": str(9 * 1024 * 1024)}, 413, "upload_too_large"),  # the stack's MAX_UPLOAD_MB is 8
        ({"Upload-Length": "0"}, 422, "empty_file"),
        ({"Upload-Defer-Length": "1"}, 400, "upload_length_required"),
        ({"Upload-Length": "10", "Upload-Concat": "partial"}, 400, "concatenation_unsupported"),
        ({"Upload-Length": "10", "Upload-Metadata": tus_metadata(filename="a.mp4")}, 400, "missing_metadata"),
    ],
)
def test_creation_refuses_what_the_service_cannot_take(
    embedded_stack: ServiceStack, headers: dict[str, str], status: int, code: str
) -> None:
    with embedded_stack.client() as client:
        answer = client.post("/api/v1/uploads", headers={**TUS, **headers})
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)


def test_creation_with_data_is_refused_rather_than_read_into_memory(embedded_stack: ServiceStack) -> None:
    metadata = tus_metadata(filename="a.mp4", filetype="video/mp4")
    headers = {**TUS, "Upload-Length": "10", "Upload-Metadata": metadata,
               "Content-Type": "application/offset+octet-stream"}  # fmt: skip
    with embedded_stack.client() as client:
        answer = client.post("/api/v1/uploads", headers=headers, content=b"0123456789")
    assert (answer.status_code, answer.json()["error"]["code"]) == (400, "creation_with_upload_unsupported")


def raw_request_head(base_url: str, lines: list[str]) -> str:
    """Send only a request's head (no body) and read the answer: the server must answer without it."""
    address = urlsplit(base_url)
    with socket.create_connection((address.hostname, address.port), timeout=10) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        answer = b""
        while b'"}}' not in answer and (received := sock.recv(65536)):  # to the end of the error body
            answer += received
        return answer.decode("latin-1")


def test_an_oversize_chunk_is_refused_before_its_body_arrives(
    embedded_stack: ServiceStack, real_clip: Path
) -> None:
    with embedded_stack.client() as client:
        upload_id = create_upload(client, real_clip.stat().st_size)
    answer = raw_request_head(embedded_stack.base_url, [
        f"PATCH /api/v1/uploads/{upload_id} HTTP/1.1", "Host: test", "Tus-Resumable: 1.0.0",
        "Upload-Offset: 0", "Content-Type: application/offset+octet-stream", "Content-Length: 104857600",
    ])  # fmt: skip
    assert answer.startswith("HTTP/1.1 413"), answer
    assert "chunk_too_large" in answer


def test_upload_ids_are_unguessable_and_made_up_ones_are_not_found(embedded_stack: ServiceStack) -> None:
    with embedded_stack.client() as client:
        upload_id = create_upload(client, 10)
        made_up = "f" * 8 + upload_id[8:]
        for answer in (
            client.head(f"/api/v1/uploads/{made_up}", headers=TUS),
            client.post(f"/api/v1/uploads/{made_up}/job", json={}),
            client.post("/api/v1/uploads/..%2F..%2Fetc/job", json={}),
        ):
            assert answer.status_code == 404, answer.text
        assert client.delete(f"/api/v1/uploads/{upload_id}", headers=TUS).status_code == 204
        assert client.head(f"/api/v1/uploads/{upload_id}", headers=TUS).status_code == 404
