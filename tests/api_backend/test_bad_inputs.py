"""Bad input, on the real running service (both stacks): every kind gets a 4xx with a clear
`{"error": {"code", "message"}}`, or a job that ends `failed` with a clear code — never a 500,
never a hang, never a stored orphan (no job row, no stored object, no temporary file left).

The history is shared with other tests, so nothing here assumes it is empty: orphans are
found by comparing snapshots (newest jobs, stored job folders, temporary uploads) around each
refused request.
"""

from __future__ import annotations

import io
import json
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest

from tests.support.stack import TERMINAL, ServiceStack
from tests.support.uploads import post_video

TIMEOUT = httpx.Timeout(30.0)  # a hang fails the test instead of blocking it
MAX_UPLOAD_MB = 8  # both shared stacks run with MAX_UPLOAD_MB=8
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
IMAGE = Path("/usr/share/doc/opencv-doc/examples/data/messi5.jpg")


# --------------------------------------------------------------------------- test media


def encode_blank(path: Path, width: int, height: int, frames: int, rate: int | Fraction) -> Path:
    """A tiny H.264 MP4 of black frames (cheap to make whatever the declared size)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(
            "libx264", rate=rate, options={"preset": "ultrafast", "tune": "zerolatency"}
        )
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        frame = av.VideoFrame(width, height, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.time_base = Fraction(1) / Fraction(rate)
        for index in range(frames):
            frame.pts = index  # explicit timestamps: the duration is frames / rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def encode_audio_only(path: Path) -> Path:
    """An MP4 (M4A) holding one AAC stream and no video at all."""
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=44100)
        for index in range(40):
            frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 44100, index * 1024
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory, real_clip: Path) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bad-media")
    clip = real_clip.read_bytes()
    corrupt = bytearray(clip)
    middle = len(corrupt) // 2
    for index in range(middle, middle + 8192):  # flip 8 KiB of coded picture data mid-stream
        corrupt[index] ^= 0xFF
    files = {
        "zero": b"",
        "text": b"this is a text file, renamed to .mp4; it is not a video\n" * 20,
        "truncated": clip[: len(clip) // 2],
        "corrupt": bytes(corrupt),
        "image": IMAGE.read_bytes(),
    }
    paths = {name: folder / f"{name}.mp4" for name in files}
    for name, data in files.items():
        paths[name].write_bytes(data)
    paths["audio"] = encode_audio_only(folder / "audio.mp4")
    # 8192×8192 = 67 Mpx, far above MAX_VIDEO_PIXELS (3840×2160 by default); two black frames, ~0.2 MB.
    paths["huge"] = encode_blank(folder / "huge.mp4", 8192, 8192, frames=2, rate=10)
    # 3700 frames at 1 fps: just over an hour (MAX_VIDEO_DURATION_S defaults to 3600), ~60 kB.
    paths["hour"] = encode_blank(folder / "hour.mp4", 64, 64, frames=3700, rate=1)
    return paths


# --------------------------------------------------------------------------- helpers


def multipart(parts: list[tuple[bytes, bytes | None, bytes | None, bytes]], boundary: bytes) -> bytes:
    """A multipart/form-data body built by hand, so that names may hold any byte (NUL, newlines…).

    Each part is (field name, file name or None, content type or None, content).
    """
    out = io.BytesIO()
    for name, filename, content_type, content in parts:
        out.write(b"--" + boundary + b"\r\n")
        disposition = b'Content-Disposition: form-data; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
        out.write(disposition + b"\r\n")
        if content_type is not None:
            out.write(b"Content-Type: " + content_type + b"\r\n")
        out.write(b"\r\n" + content + b"\r\n")
    out.write(b"--" + boundary + b"--\r\n")
    return out.getvalue()


def post_parts(
    client: httpx.Client, parts: list[tuple[bytes, bytes | None, bytes | None, bytes]]
) -> httpx.Response:
    boundary = uuid.uuid4().hex.encode()
    return client.post(
        "/api/v1/jobs",
        content=multipart(parts, boundary),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary.decode()}"},
    )


def upload(client: httpx.Client, name: str, content: bytes, **fields: str) -> httpx.Response:
    return post_video(client, (name, content), **fields)


def error_of(response: httpx.Response, status: int | set[int]) -> dict[str, str]:
    """The response must be the expected 4xx in the API's error shape; returns {code, message}."""
    allowed = {status} if isinstance(status, int) else status
    assert response.status_code in allowed, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    error = response.json()["error"]
    assert isinstance(error["code"], str) and error["code"], error
    assert isinstance(error["message"], str) and len(error["message"]) > 5, error
    return error


def stored_jobs(stack: ServiceStack) -> set[str]:
    """Job folders in storage: the local folder, or the S3 bucket."""
    if bucket := stack.env.get("S3_BUCKET"):
        import boto3

        s3 = boto3.client(
            "s3", endpoint_url=stack.env["S3_ENDPOINT_URL"], region_name="us-east-1",
            aws_access_key_id=stack.env["S3_ACCESS_KEY_ID"],
            aws_secret_access_key=stack.env["S3_SECRET_ACCESS_KEY"],
        )  # fmt: skip
        keys: set[str] = set()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="jobs/"):
            keys.update(item["Key"].split("/")[1] for item in page.get("Contents", []))
        return keys
    folder = Path(stack.env["DATA_DIR"]) / "storage" / "jobs"
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def temporary_uploads(stack: ServiceStack) -> set[str]:
    folder = Path(stack.env["DATA_DIR"]) / "tmp"
    return {p.name for p in folder.glob("upload-*")} if folder.is_dir() else set()


def newest_jobs(client: httpx.Client) -> list[str]:
    response = client.get("/api/v1/jobs", params={"limit": 100})
    assert response.status_code == 200, response.text
    return [job["id"] for job in response.json()["items"]]


@contextmanager
def no_orphans(stack: ServiceStack, client: httpx.Client) -> Iterator[None]:
    """Whatever happens inside must leave no job row, no stored object and no temporary file."""
    jobs, stored, temporary = newest_jobs(client), stored_jobs(stack), temporary_uploads(stack)
    yield
    assert newest_jobs(client) == jobs, "a refused request left a job in the history"
    assert stored_jobs(stack) == stored, "a refused request left files in storage"
    assert temporary_uploads(stack) <= temporary, "a refused request left a temporary upload"


def refused(
    stack: ServiceStack, client: httpx.Client, send: Any, status: int | set[int], code: str | None = None
) -> dict[str, str]:
    """`send(client)` must be refused with `status` (and `code`), leaving nothing behind."""
    with no_orphans(stack, client):
        response = send(client)
        if response.status_code == 202:  # accepted by mistake: stop it before failing the test
            client.post(f"/api/v1/jobs/{response.json()['id']}/cancel")
        error = error_of(response, status)
    if code is not None:
        assert error["code"] == code, error
    return error


def wait_terminal(stack: ServiceStack, client: httpx.Client, job_id: str, timeout_s: float = 120) -> dict:
    return stack.wait_for_job(client, job_id, timeout_s=timeout_s)


@pytest.fixture
def client(stack: ServiceStack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=stack.base_url, timeout=TIMEOUT) as http:
        yield http


# --------------------------------------------------------------------------- files that are not videos


@pytest.mark.parametrize(
    ("kind", "filename"),
    [
        ("zero", "empty.mp4"),  # zero bytes
        ("text", "notes.mp4"),  # a text file renamed .mp4
        ("truncated", "cut.mp4"),  # the first half of a real MP4 (no moov atom)
        ("audio", "song.mp4"),  # an audio-only MP4
    ],
)
def test_not_a_video_is_refused_before_a_job_exists(
    stack: ServiceStack, client: httpx.Client, media: dict[str, Path], kind: str, filename: str
) -> None:
    content = media[kind].read_bytes()
    error = refused(stack, client, lambda c: upload(c, filename, content), 422, "invalid_video")
    assert ".part" not in error["message"], f"the message names the server's temporary file: {error}"


def test_image_renamed_mp4_is_refused(
    stack: ServiceStack, client: httpx.Client, media: dict[str, Path]
) -> None:
    """A JPEG opens in FFmpeg as a one-frame MJPEG "video"; judged by content, it is not a video."""
    content = media["image"].read_bytes()
    refused(stack, client, lambda c: upload(c, "photo.mp4", content), 422)


def test_huge_resolution_is_refused(
    stack: ServiceStack, client: httpx.Client, media: dict[str, Path]
) -> None:
    """8192×8192 declared by a tiny (0.2 MB) H.264 file: over MAX_VIDEO_PIXELS."""
    content = media["huge"].read_bytes()
    error = refused(stack, client, lambda c: upload(c, "huge.mp4", content), {413, 422})
    text = (error["code"] + " " + error["message"]).lower()
    assert any(word in text for word in ("resolution", "pixel", "8192")), error


def test_video_longer_than_the_limit_is_refused(
    stack: ServiceStack, client: httpx.Client, media: dict[str, Path]
) -> None:
    """3700 s (one frame a second) against MAX_VIDEO_DURATION_S = 3600 s."""
    content = media["hour"].read_bytes()
    error = refused(stack, client, lambda c: upload(c, "hour.mp4", content), {413, 422})
    text = (error["code"] + " " + error["message"]).lower()
    assert any(word in text for word in ("duration", "long", "3600")), error


def test_upload_over_max_upload_mb_is_refused(stack: ServiceStack, client: httpx.Client) -> None:
    blob = bytes(MAX_UPLOAD_MB * 1024 * 1024 + 1024)
    refused(stack, client, lambda c: upload(c, "big.mp4", blob), 413, "upload_too_large")

    def chunked(c: httpx.Client) -> httpx.Response:  # no Content-Length: refused while streaming
        boundary = b"bigbody"
        body = multipart([(b"file", b"big.mp4", b"video/mp4", blob)], boundary)

        def stream() -> Iterator[bytes]:
            for start in range(0, len(body), 256 * 1024):
                yield body[start : start + 256 * 1024]

        return c.post("/api/v1/jobs", content=stream(),
                      headers={"Content-Type": "multipart/form-data; boundary=bigbody"})  # fmt: skip

    refused(stack, client, chunked, 413, "upload_too_large")


def test_corrupt_frames_mid_stream_end_cleanly(
    stack: ServiceStack, client: httpx.Client, media: dict[str, Path]
) -> None:
    """8 KiB flipped in the middle of a real clip: refused, or a job that ends with what decoded."""
    response = upload(client, "corrupt.mp4", media["corrupt"].read_bytes())
    if response.status_code != 202:
        error_of(response, 422)
        return
    job = wait_terminal(stack, client, response.json()["id"])
    if job["status"] == "failed":
        assert job["error"]["code"] and job["error"]["message"], job
    else:
        assert job["status"] == "succeeded", job
        assert set(job["outputs"]) >= {"keypoints.json", "summary.json"}, job


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"../../etc/passwd.mp4", "passwd.mp4"),
        (b"..\\..\\windows\\win.ini.mp4", "win.ini.mp4"),
        ("фильм 🥊.mp4".encode(), "фильм 🥊.mp4"),
        (b"evil\x00name\x01\x1b[31m.mp4", "evilname[31m.mp4"),
        (b"new\r\nline.mp4", None),  # a raw CR LF ends the header: refused or stripped
        (b"a" * 1000 + b".mp4", None),
    ],
    ids=["traversal", "backslash-traversal", "unicode", "nul-and-control", "crlf", "1000-chars"],
)
def test_file_names_are_stored_safely(
    stack: ServiceStack, client: httpx.Client, real_clip: Path, raw: bytes, expected: str | None
) -> None:
    content = real_clip.read_bytes()
    response = post_parts(client, [(b"file", raw, b"video/mp4", content)])
    if response.status_code != 202:
        error_of(response, {400, 422})
        return
    job = response.json()
    client.post(f"/api/v1/jobs/{job['id']}/cancel")  # the name is the test, not the analysis
    name = job["filename"]
    assert name and len(name) <= 255, name
    assert "/" not in name and "\\" not in name and ".." not in name.replace("...", ""), name
    assert all(ch.isprintable() for ch in name), repr(name)
    if expected is not None:
        assert name == expected, name
    listed = client.get(f"/api/v1/jobs/{job['id']}").json()
    assert listed["filename"] == name
    if not stack.env.get("S3_BUCKET"):  # the stored input stays inside the job's own folder
        storage = (Path(stack.env["DATA_DIR"]) / "storage").resolve()
        stored = [p.resolve() for p in (storage / "jobs" / job["id"]).iterdir()]
        assert stored and all(p.is_relative_to(storage / "jobs" / job["id"]) for p in stored), stored
        assert all(p.name.startswith("input") and len(p.name) < 20 for p in stored), stored


# --------------------------------------------------------------------------- the form


def test_missing_file_field(stack: ServiceStack, client: httpx.Client) -> None:
    other = {"other": ("x.txt", b"x")}
    refused(stack, client, lambda c: c.post("/api/v1/jobs", data={"device": "cpu"}, files=other), 422,
            "missing_file")  # fmt: skip
    # a `file` field that is a plain value, not a file
    refused(stack, client, lambda c: post_parts(c, [(b"file", None, None, b"hello")]), 422, "missing_file")
    # an empty multipart body (just the closing boundary)
    refused(stack, client, lambda c: post_parts(c, []), {400, 422})


def test_two_files(stack: ServiceStack, client: httpx.Client, real_clip: Path) -> None:
    content = real_clip.read_bytes()
    parts: list[tuple[bytes, bytes | None, bytes | None, bytes]] = [
        (b"file", b"a.mp4", b"video/mp4", content),
        (b"file", b"b.mp4", b"video/mp4", content),
    ]
    refused(stack, client, lambda c: post_parts(c, parts), 422, "too_many_files")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"device": "tpu"}, "device"),
        ({"device": ""}, "device"),
        ({"model": "../../etc/passwd"}, "model"),
        ({"model": "models/yolo11n-pose"}, "model"),
        ({"model": "m" * 65}, "model"),
        ({"callback_url": "not a url"}, "callback_url"),
        ({"callback_url": "ftp://example.com/hook"}, "callback_url"),
        ({"callback_url": "javascript:alert(1)"}, "callback_url"),
    ],
)
def test_wrong_field_values(
    stack: ServiceStack, client: httpx.Client, real_clip: Path, fields: dict[str, str], field: str
) -> None:
    content = real_clip.read_bytes()
    error = refused(stack, client, lambda c: upload(c, "ok.mp4", content, **fields), 422, "validation_error")
    details: Any = error["details"]  # one shape everywhere: where, what, which rule; no Python repr
    assert [field] in [d["loc"] for d in details] and {"loc", "msg", "type"} <= set(details[0]), error
    assert "{'" not in error["message"] and "[{" not in error["message"], error


def test_unknown_model_is_refused_at_submit(
    stack: ServiceStack, client: httpx.Client, real_clip: Path
) -> None:
    content = real_clip.read_bytes()
    error = refused(stack, client, lambda c: upload(c, "ok.mp4", content, model="no-such-model"), 422,
                    "unknown_model")  # fmt: skip
    details: Any = error["details"]
    assert "yolo11n-pose" in details[0]["available"] and "yolo11n-pose" in error["message"]


def test_callback_to_a_private_address(stack: ServiceStack, client: httpx.Client, real_clip: Path) -> None:
    """SSRF: webhooks to loopback/private/link-local addresses (Redis, cloud metadata…)."""
    content = real_clip.read_bytes()
    for url in ("http://127.0.0.1:6379/", "http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/"):
        response = upload(client, "ok.mp4", content, callback_url=url)
        if response.status_code == 202:
            client.post(f"/api/v1/jobs/{response.json()['id']}/cancel")
            pytest.xfail(f"callback_url {url} accepted: no SSRF protection (yet)")
        error_of(response, 422)


def test_oversize_and_too_many_form_fields(
    stack: ServiceStack, client: httpx.Client, real_clip: Path
) -> None:
    content = real_clip.read_bytes()
    big = [(b"file", b"ok.mp4", b"video/mp4", content), (b"model", None, None, b"m" * 100_000)]
    refused(stack, client, lambda c: post_parts(c, big), 422, "field_too_large")
    many = [(f"f{i}".encode(), None, None, b"x") for i in range(50)]
    refused(stack, client, lambda c: post_parts(c, [*many, (b"file", b"ok.mp4", b"video/mp4", content)]),
            422, "too_many_fields")  # fmt: skip
    key = "k" * 300  # Idempotency-Key longer than 255
    refused(stack, client, lambda c: c.post("/api/v1/jobs", files={"file": ("ok.mp4", content, "video/mp4")},
                                            headers={"Idempotency-Key": key}), 422)  # fmt: skip


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", json.dumps({"file": "x" * 2_000_000}).encode()),  # oversize JSON
        ("application/json", b'{"file": "video.mp4"}'),
        ("text/plain", b"hello"),
        ("application/x-www-form-urlencoded", b"file=video.mp4&device=cpu"),
        ("multipart/form-data", b"--x\r\n\r\n"),  # no boundary parameter
        ("video/mp4", b"\x00\x00\x00\x18ftypmp42"),
        (None, b"raw bytes"),
    ],
    ids=["oversize-json", "json", "text", "urlencoded", "no-boundary", "raw-video", "no-content-type"],
)
def test_wrong_content_types(
    stack: ServiceStack, client: httpx.Client, content_type: str | None, body: bytes
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    refused(stack, client, lambda c: c.post("/api/v1/jobs", content=body, headers=headers), 415,
            "unsupported_media_type")  # fmt: skip


def test_malformed_multipart(stack: ServiceStack, client: httpx.Client) -> None:
    headers = {"Content-Type": "multipart/form-data; boundary=abc"}
    for body in (
        b"garbage without any boundary",
        b"--abc\r\nno-colon-header\r\n\r\ndata\r\n--abc--\r\n",
        b'--abc\r\nContent-Disposition: form-data; name="file"; filename="a.mp4"\r\n\r\nunterminated',
    ):
        refused(
            stack, client, lambda c, b=body: c.post("/api/v1/jobs", content=b, headers=headers), {400, 422}
        )


# --------------------------------------------------------------------------- ids, cursors, pages


@pytest.mark.parametrize(
    "job_id", [UNKNOWN_ID, "not-a-uuid", "1", "%00", "..%2F..%2Fetc", "x" * 2000, "фильм"]
)
def test_unknown_and_malformed_job_ids(client: httpx.Client, job_id: str) -> None:
    for method, path in (
        ("GET", ""),
        ("POST", "/cancel"),
        ("GET", "/events"),
        ("GET", "/outputs/summary.json"),
    ):
        response = client.request(method, f"/api/v1/jobs/{job_id}{path}")
        assert response.status_code == 404, (method, path, response.status_code, response.text[:300])
        assert error_of(response, 404)["code"] in {"job_not_found", "not_found"}


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "e30",  # {} in base64
        "WzEsMl0",  # [1,2]
        "WyJ4IiwieSJd",  # ["x","y"]
        "W251bGwsbnVsbF0",  # [null,null]
        "WyIyMDI0LTAxLTAxVDAwOjAwOjAwIiwibm90LWEtdXVpZCJd",  # ["2024-01-01T00:00:00","not-a-uuid"]
        "_-_-",
        "x" * 512,
    ],
)
def test_bad_cursors(client: httpx.Client, cursor: str) -> None:
    assert error_of(client.get("/api/v1/jobs", params={"cursor": cursor}), 400)["code"] == "invalid_cursor"


def test_cursor_with_a_timezone_or_extreme_date_does_not_break_the_query(client: httpx.Client) -> None:
    import base64

    dates = ("2024-01-01T00:00:00+05:00", "9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59", "0001-01-01")
    for created in dates:
        raw = json.dumps([created, UNKNOWN_ID]).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        response = client.get("/api/v1/jobs", params={"cursor": cursor})
        assert response.status_code in (200, 400), (created, response.status_code, response.text[:300])
    response = client.get("/api/v1/jobs", params={"cursor": "c" * 513})
    error_of(response, 422)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": -1}, {"limit": "ten"},
                                    {"limit": "1e9"}, {"status": "done"}, {"status": ""}])  # fmt: skip
def test_list_parameters_out_of_range(client: httpx.Client, params: dict[str, Any]) -> None:
    assert error_of(client.get("/api/v1/jobs", params=params), 422)["code"] == "validation_error"


# --------------------------------------------------------------------------- outputs, cancel, methods


def test_outputs_and_cancel_of_a_finished_job(
    stack: ServiceStack, client: httpx.Client, real_clip: Path
) -> None:
    created = upload(client, "people.mp4", real_clip.read_bytes())
    assert created.status_code == 202, created.text
    job_id = created.json()["id"]
    for name in ("nope.txt", "../input.mp4", "%2e%2e%2finput.mp4", "input.mp4"):
        error = error_of(client.get(f"/api/v1/jobs/{job_id}/outputs/{name}"), 404)
        assert error["code"] in {"output_not_found", "not_found"}, (name, error)
    job = wait_terminal(stack, client, job_id)
    assert job["status"] in TERMINAL
    assert error_of(client.post(f"/api/v1/jobs/{job_id}/cancel"), 409)["code"] == "job_finished"
    assert (
        error_of(client.get(f"/api/v1/jobs/{job_id}/outputs/unknown.bin"), 404)["code"] == "output_not_found"
    )


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/jobs"),
        ("PUT", "/api/v1/jobs"),
        ("PUT", f"/api/v1/jobs/{UNKNOWN_ID}"),
        ("DELETE", f"/api/v1/jobs/{UNKNOWN_ID}/cancel"),
        ("GET", f"/api/v1/jobs/{UNKNOWN_ID}/rerun"),
        ("GET", f"/api/v1/jobs/{UNKNOWN_ID}/cancel"),
        ("POST", f"/api/v1/jobs/{UNKNOWN_ID}/events"),
        ("POST", "/health/live"),
    ],
)
def test_methods_not_allowed(client: httpx.Client, method: str, path: str) -> None:
    assert error_of(client.request(method, path), 405)["code"] == "method_not_allowed"


# --------------------------------------------------------------------------- bodies that lie or never end


def _file_part(content: bytes) -> bytes:
    return (
        b'Content-Disposition: form-data; name="file"; filename="ok.mp4"\r\nContent-Type: video/mp4\r\n\r\n'
        + content
    )


def _post_raw(client: httpx.Client, body: bytes, boundary: str) -> httpx.Response:
    return client.post(
        "/api/v1/jobs", content=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )


def test_every_byte_counts_and_the_body_must_be_whole(
    stack: ServiceStack, client: httpx.Client, real_clip: Path
) -> None:
    content = real_clip.read_bytes()
    whole = b"--b\r\n" + _file_part(content) + b"\r\n--b--\r\n"
    epilogue = whole + b"E" * ((MAX_UPLOAD_MB + 1) << 20)  # a small valid video, then megabytes after it
    refused(stack, client, lambda c: _post_raw(c, epilogue, "b"), 413, "upload_too_large")
    repeated = b"".join(
        b'--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nm\r\n' for _ in range(40)
    )
    refused(stack, client, lambda c: _post_raw(c, repeated + whole, "b"), 422, "too_many_fields")
    unclosed = b"--b\r\n" + _file_part(content)  # the whole video, but no closing boundary
    refused(stack, client, lambda c: _post_raw(c, unclosed, "b"), 400, "incomplete_multipart")
    long_boundary = "x" * 257
    body = f"--{long_boundary}\r\n".encode() + _file_part(content) + f"\r\n--{long_boundary}--\r\n".encode()
    refused(stack, client, lambda c: _post_raw(c, body, long_boundary), 400, "malformed_multipart")


def _send_raw(stack: ServiceStack, request: bytes, *, wait_for_answer: bool) -> bytes:
    with socket.create_connection(("127.0.0.1", stack.port), timeout=20) as sock:
        sock.sendall(request)
        if not wait_for_answer:
            return b""
        return sock.recv(65536)


def _server_errors(client: httpx.Client) -> float:
    metrics = client.get("/metrics").text
    return sum(float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith("http_requests_total{") and 'status="5' in line)  # fmt: skip


def test_short_content_length_and_a_client_leaving_are_client_errors(
    stack: ServiceStack, client: httpx.Client, real_clip: Path
) -> None:
    whole = b"--b\r\n" + _file_part(real_clip.read_bytes()) + b"\r\n--b--\r\n"
    head = "POST /api/v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
    errors_before = _server_errors(client)
    with no_orphans(stack, client):
        # Content-Length says less than is sent: the body read ends before the closing boundary.
        short = f"{head}Content-Length: {len(whole) - 2000}\r\nConnection: close\r\n\r\n".encode() + whole
        assert _send_raw(stack, short, wait_for_answer=True).startswith(b"HTTP/1.1 400")
        # The client sends half its body and goes away.
        half = f"{head}Content-Length: {len(whole)}\r\n\r\n".encode() + whole[: len(whole) // 2]
        _send_raw(stack, half, wait_for_answer=False)
        time.sleep(1)
    assert _server_errors(client) == errors_before, "a client's mistake was counted as a server error"
