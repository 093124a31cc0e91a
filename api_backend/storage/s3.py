"""S3 storage (AWS or any S3-compatible server) through boto3.

Large objects go up in multipart chunks; downloads are handed to clients as presigned URLs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from api_backend.storage.base import ObjectNotFound, Storage, StorageError

NOT_FOUND_CODES = {"404", "NoSuchKey", "NotFound"}


class S3Storage(Storage):
    name = "s3"

    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None,
        public_endpoint_url: str | None,
        region: str,
        access_key_id: str | None,
        secret_access_key: str | None,
        multipart_chunk_mb: int = 16,
    ) -> None:
        self.bucket = bucket
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 5, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        )
        credentials: dict[str, Any] = {
            "region_name": region,
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "config": config,
        }
        self.client = boto3.client("s3", endpoint_url=endpoint_url, **credentials)
        # Presigned URLs must name a host the *client* can reach, which may differ from ours.
        self.presign_client = (
            boto3.client("s3", endpoint_url=public_endpoint_url, **credentials)
            if public_endpoint_url
            else self.client
        )
        chunk = multipart_chunk_mb * 1024 * 1024
        self.transfer = TransferConfig(
            multipart_threshold=chunk, multipart_chunksize=chunk, max_concurrency=4
        )

    def ensure_bucket(self) -> None:
        with _translated(self.bucket):
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if _error_code(exc) not in NOT_FOUND_CODES | {"NoSuchBucket"}:
                    raise
                self.client.create_bucket(Bucket=self.bucket)

    @staticmethod
    def _extra(content_type: str | None) -> dict[str, str]:
        return {"ContentType": content_type} if content_type else {}

    def put_file(self, key: str, path: Path, content_type: str | None = None, *, move: bool = False) -> None:
        with _translated(key):
            self.client.upload_file(
                str(path), self.bucket, key, ExtraArgs=self._extra(content_type), Config=self.transfer
            )
        if move:
            path.unlink(missing_ok=True)

    def copy(self, source_key: str, key: str) -> None:
        with _translated(source_key):
            self.client.copy(
                {"Bucket": self.bucket, "Key": source_key}, self.bucket, key, Config=self.transfer
            )

    def get_file(self, key: str, destination: Path) -> None:
        with _translated(key):
            self.client.download_file(self.bucket, key, str(destination), Config=self.transfer)

    def iter_chunks(self, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        # Not a generator itself: a missing object or an S3 outage raises here, before any byte is sent.
        with _translated(key):
            body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        return _chunks(body, key, chunk_size)

    def local_path(self, key: str) -> Path | None:
        return None

    def size(self, key: str) -> int:
        with _translated(key):
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        return int(head["ContentLength"])

    def delete_prefix(self, prefix: str) -> int:
        deleted = 0
        with _translated(prefix):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                objects: list[Any] = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if objects:
                    self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": objects, "Quiet": True})
                    deleted += len(objects)
        return deleted

    def download_url(self, key: str, *, filename: str, expires_s: int) -> str | None:
        with _translated(key):
            url: str = self.presign_client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.bucket,
                    "Key": key,
                    "ResponseContentDisposition": f'inline; filename="{filename}"',
                },
                ExpiresIn=expires_s,
            )
        return url

    def ping(self) -> None:
        with _translated(self.bucket):
            self.client.head_bucket(Bucket=self.bucket)


def _chunks(body: Any, key: str, chunk_size: int) -> Iterator[bytes]:
    try:
        with _translated(key):
            yield from body.iter_chunks(chunk_size)
    finally:
        body.close()


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def _translated(key: str) -> Iterator[None]:
    """Turn boto errors into the storage interface's errors."""
    try:
        yield
    except ClientError as exc:
        if _error_code(exc) in NOT_FOUND_CODES:
            raise ObjectNotFound(key) from exc
        raise StorageError(f"S3 refused the request for {key!r}: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"S3 is unreachable ({key!r}): {exc}") from exc
