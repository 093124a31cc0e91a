"""Builds the configured storage backend once per process."""

from __future__ import annotations

from functools import lru_cache

from api_backend.settings import Settings, get_settings
from api_backend.storage.base import Storage
from api_backend.storage.local import LocalStorage
from api_backend.storage.s3 import S3Storage


def build_storage(settings: Settings) -> Storage:
    if settings.resolved_storage_backend == "local":
        return LocalStorage(settings.storage_dir)
    if not settings.s3_bucket:
        raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET")
    return S3Storage(
        bucket=settings.s3_bucket,
        endpoint_url=settings.s3_endpoint_url,
        public_endpoint_url=settings.s3_public_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
        multipart_chunk_mb=settings.s3_multipart_chunk_mb,
    )


@lru_cache
def get_storage() -> Storage:
    return build_storage(get_settings())
