"""Both storage backends against the real thing: a local folder and the SeaweedFS S3 server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api_backend.storage import ObjectNotFound, Storage, StorageError
from api_backend.storage.local import LocalStorage
from api_backend.storage.s3 import S3Storage
from tests.support.services import (
    S3_ACCESS_KEY,
    S3_SECRET_KEY,
    TEST_BUCKET_PREFIX,
    remove_bucket,
    s3_bucket,
)


def make_s3(endpoint: str, bucket: str, **overrides: object) -> S3Storage:
    options: dict[str, object] = {
        "bucket": bucket, "endpoint_url": endpoint, "public_endpoint_url": None, "region": "us-east-1",
        "access_key_id": S3_ACCESS_KEY, "secret_access_key": S3_SECRET_KEY, "multipart_chunk_mb": 5,
    }  # fmt: skip
    options.update(overrides)
    return S3Storage(**options)  # type: ignore[arg-type]


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "local":
        yield LocalStorage(tmp_path / "storage")
        return
    endpoint = request.getfixturevalue("s3_endpoint")
    with s3_bucket(endpoint) as bucket:
        yield make_s3(endpoint, bucket)


def stored(storage: Storage, key: str) -> bool:
    try:
        storage.size(key)
    except ObjectNotFound:
        return False
    return True


def put_bytes(storage: Storage, key: str, payload: bytes, tmp: Path) -> None:
    source = tmp / "payload.bin"
    source.write_bytes(payload)
    storage.put_file(key, source, "application/octet-stream", move=True)


def test_put_get_roundtrip_and_size(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"punch" * 1000)
    storage.put_file("jobs/a/input.mp4", source, "video/mp4")
    assert stored(storage, "jobs/a/input.mp4")
    assert storage.size("jobs/a/input.mp4") == 5000
    storage.get_file("jobs/a/input.mp4", tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == source.read_bytes()
    assert source.exists(), "put_file without move keeps the source"


def test_put_file_move_takes_the_file(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"x" * 10)
    storage.put_file("k/moved", source, move=True)
    assert not source.exists()
    assert storage.size("k/moved") == 10


def test_multipart_upload(storage: Storage, tmp_path: Path) -> None:
    # 12 MB crosses the 5 MB multipart threshold: three parts on S3.
    payload = os.urandom(12 * 1024 * 1024)
    put_bytes(storage, "big/object", payload, tmp_path)
    storage.get_file("big/object", tmp_path / "big")
    assert (tmp_path / "big").read_bytes() == payload


def test_iter_chunks_streams_the_object(storage: Storage, tmp_path: Path) -> None:
    payload = os.urandom(3 * 1024 * 1024 + 17)
    put_bytes(storage, "stream/me", payload, tmp_path)
    chunks = list(storage.iter_chunks("stream/me", chunk_size=1024 * 1024))
    assert len(chunks) >= 4
    assert b"".join(chunks) == payload
    with pytest.raises(ObjectNotFound):
        storage.iter_chunks("stream/missing")  # raised at once, before any byte would be sent


def test_missing_object(storage: Storage, tmp_path: Path) -> None:
    assert not stored(storage, "nope/nothing")
    with pytest.raises(ObjectNotFound):
        storage.size("nope/nothing")
    with pytest.raises(ObjectNotFound):
        storage.get_file("nope/nothing", tmp_path / "x")


def test_delete_prefix_removes_only_that_prefix(storage: Storage, tmp_path: Path) -> None:
    for key in ("jobs/1/input.mp4", "jobs/1/outputs/summary.json", "jobs/10/input.mp4"):
        put_bytes(storage, key, b"data", tmp_path)
    assert storage.delete_prefix("jobs/1/") == 2
    assert not stored(storage, "jobs/1/input.mp4")
    assert stored(storage, "jobs/10/input.mp4")
    assert storage.delete_prefix("jobs/1/") == 0


def test_ping(storage: Storage) -> None:
    storage.ping()


def test_local_storage_refuses_keys_outside_its_root(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(StorageError):
        put_bytes(storage, "../escape", b"x", tmp_path)
    assert not (tmp_path / "escape").exists()


def test_local_storage_serves_from_disk_and_has_no_url(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    put_bytes(storage, "a/b.json", b"{}", tmp_path)
    assert storage.local_path("a/b.json") == (tmp_path / "root" / "a" / "b.json").resolve()
    assert storage.download_url("a/b.json", filename="b.json", expires_s=60) is None


@pytest.fixture
def s3_storage(s3_endpoint: str) -> Iterator[S3Storage]:
    with s3_bucket(s3_endpoint) as bucket:
        yield make_s3(s3_endpoint, bucket)


def test_s3_presigned_url_downloads_and_is_signed(s3_storage: S3Storage, tmp_path: Path) -> None:
    storage = s3_storage
    put_bytes(storage, "jobs/x/outputs/summary.json", b'{"ok": true}', tmp_path)
    url = storage.download_url("jobs/x/outputs/summary.json", filename="summary.json", expires_s=120)
    assert url is not None
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b'{"ok": true}'
    # The server checks signatures: a tampered URL is refused.
    assert httpx.get(url.replace("Signature=", "Signature=0")).status_code == 403


def test_s3_wrong_credentials_are_a_storage_error(s3_endpoint: str) -> None:
    storage = make_s3(s3_endpoint, "any-bucket", secret_access_key="wrong")
    with pytest.raises(StorageError):
        storage.ping()


def test_s3_unreachable_is_a_storage_error() -> None:
    storage = make_s3("http://127.0.0.1:9", "bucket")
    with pytest.raises(StorageError):
        storage.ping()


def test_ensure_bucket_creates_it_once(s3_endpoint: str) -> None:
    name = f"{TEST_BUCKET_PREFIX}{os.urandom(5).hex()}"
    storage = make_s3(s3_endpoint, name)
    try:
        storage.ensure_bucket()
        storage.ensure_bucket()
        storage.ping()
    finally:
        remove_bucket(s3_endpoint, name)
