"""A job from a finished resumable upload: the same checks, storage and enqueue as a multipart POST."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from tuspyserver.storage import TusStorage

from api_backend.domain_errors import Conflict, Gone, NotFound
from api_backend.jobs import repository, service
from api_backend.jobs.models import Job
from api_backend.jobs.schemas import JobOptions
from api_backend.settings import Settings
from api_backend.storage import Storage
from api_backend.uploads.storage import is_complete, is_expired, received_upload


def upload_job_key(upload_id: str) -> str:
    """The job's idempotency key: one upload makes at most one job, however often the client asks."""
    return f"upload:{upload_id}"


async def create_job_from_upload(
    session: Session,
    storage: Storage,
    resumable: TusStorage,
    settings: Settings,
    *,
    owner: str,
    upload_id: str,
    options: JobOptions,
    api_key_id: uuid.UUID | None,
) -> tuple[Job, bool]:
    """Returns (job, created). The caller removes the upload once the job is committed."""
    key = upload_job_key(upload_id)
    if existing := await run_in_threadpool(repository.get_by_idempotency_key, session, owner, key):
        if existing.options != options.model_dump(mode="json"):
            raise Conflict("upload_already_used", "this upload already made a job, with other options")
        return existing, False
    info = await resumable.read_info(upload_id)
    if info is None:
        raise NotFound("upload_not_found", f"no upload with id {upload_id!r}")
    if is_expired(info):
        raise Gone("upload_expired", "the upload expired before it was finished; upload the video again")
    if not is_complete(info):
        offset, size = info.get("offset", 0), info.get("size")
        message = f"the upload has {offset} of {size} bytes; send the rest (tus PATCH) first"
        raise Conflict("upload_incomplete", message)
    await resumable.finalize(upload_id)  # no-op unless the last PATCH died between its write and its seal
    upload = await received_upload(resumable, storage, upload_id, info, settings.upload_tmp_dir)
    try:
        job, created = await service.create_job(
            session, storage, settings, owner=owner, upload=upload, options=options,
            idempotency_key=key, api_key_id=api_key_id,
        )  # fmt: skip
    finally:
        upload.discard()
    return job, created
