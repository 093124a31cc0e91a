"""Where resumable (tus) uploads wait until they are whole, and how a whole one becomes a local file.

The tus protocol is served by `tuspyserver`; its storage backends follow ours: with S3 the chunks go
straight into an S3 multipart upload under `resumable/` (any API replica serves any chunk; a Redis
lock serialises the PATCHes of one upload across replicas), with local storage they go to a folder
under DATA_DIR.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import LockError
from tuspyserver.storage import TusStorage
from tuspyserver.storage.local import LocalFileStorage
from tuspyserver.storage.s3 import S3Storage as TusS3Storage

from api_backend.jobs.upload import ReceivedUpload, safe_content_type, safe_filename
from api_backend.settings import Settings, get_settings
from api_backend.storage import Storage, get_storage
from api_backend.storage.s3 import S3Storage

RESUMABLE_PREFIX = "resumable/"
# A PATCH holds the upload's lock while its body arrives: long enough for a slow phone sending a full
# chunk, short enough that a replica that died mid-PATCH frees the upload soon.
LOCK_TTL_S = 600
LOCK_WAIT_S = 30
HASH_CHUNK = 1024 * 1024

LockFactory = Callable[[str], contextlib.AbstractAsyncContextManager[None]]


def redis_lock_factory(redis_url: str) -> LockFactory:
    """One upload's PATCHes never interleave, whichever API replica gets them."""

    @contextlib.asynccontextmanager
    async def upload_lock(uid: str) -> AsyncIterator[None]:
        # A client per lock: a module-level one would be bound to the first event loop that used it.
        client = aioredis.Redis.from_url(redis_url)
        lock = client.lock(
            f"shadow-trainer:resumable:{uid}", timeout=LOCK_TTL_S, blocking_timeout=LOCK_WAIT_S
        )
        try:
            if not await lock.acquire():
                raise TimeoutError("another request is writing this upload; retry shortly")
            try:
                yield
            finally:
                with contextlib.suppress(LockError):
                    await lock.release()
        finally:
            await client.aclose()

    return upload_lock


def build_resumable_storage(storage: Storage, settings: Settings) -> TusStorage:
    if isinstance(storage, S3Storage):
        redis_url = settings.redis_broker_url
        return TusS3Storage(
            bucket=storage.bucket,
            client=storage.client,
            prefix=RESUMABLE_PREFIX,
            lock_factory=redis_lock_factory(redis_url) if redis_url else None,
        )
    return LocalFileStorage(str(settings.resumable_dir))


@lru_cache
def get_resumable_storage() -> TusStorage:
    return build_resumable_storage(get_storage(), get_settings())


def is_expired(info: dict[str, Any], now: datetime | None = None) -> bool:
    expires = info.get("expires")
    if not isinstance(expires, str) or not expires:
        return False
    try:
        when = parsedate_to_datetime(expires)
    except (TypeError, ValueError):
        return False
    return when < (now or datetime.now(UTC))


def is_complete(info: dict[str, Any]) -> bool:
    return info.get("size") is not None and info.get("offset") == info.get("size")


async def received_upload(
    resumable: TusStorage, storage: Storage, uid: str, info: dict[str, Any], tmp_dir: Path
) -> ReceivedUpload:
    """The whole upload as a private local file (the caller discards it), like a multipart POST's."""
    metadata = info.get("metadata") or {}
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-", suffix=".part")
    os.close(fd)
    path = Path(name)
    try:
        if isinstance(resumable, TusS3Storage):
            await asyncio.to_thread(storage.get_file, RESUMABLE_PREFIX + uid, path)
        else:
            await asyncio.to_thread(_link_or_copy, Path(resumable.location(uid)), path)
        digest, size = await asyncio.to_thread(_sha256, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return ReceivedUpload(
        path=path,
        filename=safe_filename(str(metadata.get("filename") or "video")),
        content_type=safe_content_type(metadata.get("filetype")),
        size=size,
        digest=digest,
    )


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link costs nothing for a 2 GB file; another request making a job from the same upload
    gets its own link, so neither one moves the other's file away."""
    target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _sha256(path: Path) -> tuple[Any, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest, size


async def remove_expired(resumable: TusStorage) -> int:
    """Delete unfinished uploads past their `Upload-Expires` (and whole ones nobody made a job of)."""
    removed = 0
    for uid in await resumable.list_uids():
        info = await resumable.read_info(uid)
        if info is not None and is_expired(info):
            await resumable.delete(uid)
            removed += 1
    return removed
