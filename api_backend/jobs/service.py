"""Job use cases: create (probe, store, insert, enqueue after the commit), read, list, cancel, delete,
rerun. They change rows in the caller's transaction and never commit it: the request (or a worker's
scope) commits once (`db.transaction`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api_backend.auth.signing import sign_output
from api_backend.db.transaction import end_reads
from api_backend.domain_errors import BadRequest, Conflict, DomainError, Gone, Invalid, LimitReached
from api_backend.jobs import repository
from api_backend.jobs.ending import end_job
from api_backend.jobs.enqueue import enqueue_after_commit
from api_backend.jobs.models import OUTPUT_NAMES, THUMBNAIL_NAME, Job, JobStatus
from api_backend.jobs.routing import choose_queue
from api_backend.jobs.schemas import (
    JobErrorOut,
    JobOptions,
    JobOut,
    JobTimings,
    SessionFigures,
    VideoOut,
    WebhookOut,
)
from api_backend.jobs.upload import ReceivedUpload, as_the_client_named_it
from api_backend.settings import Settings, get_settings
from api_backend.storage import Storage
from api_backend.webhooks.address_check import CallbackAddressError, check_callback_url
from shadow_trainer.errors import InvalidVideoError
from shadow_trainer.media.video import VideoInfo, probe_video
from shadow_trainer.pose import available_models


def input_key(job_id: uuid.UUID, filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    if not suffix[1:].isalnum() or len(suffix) > 6:
        suffix = ".bin"
    return f"jobs/{job_id}/input{suffix}"


async def probe_upload(upload: ReceivedUpload, settings: Settings) -> VideoInfo:
    assert upload.path is not None
    try:
        return await run_in_threadpool(probe_video, upload.path, settings.video_limits)
    except InvalidVideoError as exc:
        raise Invalid(exc.code, as_the_client_named_it(exc.message, upload.path, upload.filename)) from exc


def check_in_flight(session: Session, owner: str, limit: int) -> None:
    if repository.count_in_flight(session, owner) >= limit:
        message = f"you already have {limit} jobs queued or running; wait for one to end"
        raise LimitReached("too_many_jobs", message, retry_after_s=30)


def check_model(name: str, settings: Settings) -> None:
    """At submit, not in the worker: the API image holds the same model folder as the workers'."""
    models = available_models(settings.model_dir)
    if name.removesuffix(".pt") not in models:
        detail = {"loc": ["model"], "msg": "unknown model", "type": "unknown_model", "available": models}
        message = f"no pose model {name!r}; available: {', '.join(models) or 'none'}"
        raise Invalid("unknown_model", message, details=[detail])


def check_callback(url: str, allow_private: bool) -> None:
    try:
        check_callback_url(url, allow_private=allow_private)
    except CallbackAddressError as exc:
        raise Invalid("invalid_callback_url", str(exc)) from exc


def check_video_limits(video: VideoInfo, settings: Settings) -> None:
    if video.duration > settings.max_video_duration_s:
        limit = settings.max_video_duration_s
        raise Invalid("video_too_long", f"the video lasts {video.duration:.0f} s; the limit is {limit:.0f} s")
    if video.width * video.height > settings.max_video_pixels:
        size, limit_px = f"{video.width}×{video.height}", settings.max_video_pixels
        raise Invalid("resolution_too_high", f"{size} is above the limit of {limit_px} pixels a frame")


async def create_job(
    session: Session,
    storage: Storage,
    settings: Settings,
    *,
    owner: str,
    upload: ReceivedUpload,
    options: JobOptions,
    idempotency_key: str | None,
    api_key_id: uuid.UUID | None = None,
) -> tuple[Job, bool]:
    """Store the upload and insert the job row; its task is sent once the caller commits. Returns
    (job, created).

    No database connection is held while the upload is probed and stored (seconds for a large file):
    concurrent uploads must not empty the pool that every other request needs.
    """
    if idempotency_key and (existing := await _by_idempotency_key(session, owner, idempotency_key)):
        return same_request(existing, upload, options), False
    await run_in_threadpool(_check_can_submit, session, owner, options, settings)
    await check_callback_option(options, settings)
    video = await probe_upload(upload, settings)
    check_video_limits(video, settings)
    job = _new_job(uuid.uuid4(), owner, upload, options, video, idempotency_key, settings)
    job.api_key_id = api_key_id
    assert upload.path is not None
    await run_in_threadpool(storage.put_file, job.input_key, upload.path, upload.content_type, move=True)
    try:
        await _insert_stored(session, storage, settings, job)
    except IntegrityError:
        # Two requests with the same Idempotency-Key raced, and the other one won.
        existing = await _by_idempotency_key(session, owner, idempotency_key or "")
        if existing is None:
            raise
        return same_request(existing, upload, options), False
    return job, True


# The database and the broker are reached from a thread: these services are `async` (they await the
# upload and the storage) and a blocking call here would stall every other request on the event loop.


async def _by_idempotency_key(session: Session, owner: str, key: str) -> Job | None:
    return await run_in_threadpool(repository.get_by_idempotency_key, session, owner, key)


def _check_can_submit(session: Session, owner: str, options: JobOptions, settings: Settings) -> None:
    """Cheap refusals before the upload is probed and stored; then the read transaction ends, so no
    connection is held during that work."""
    check_in_flight(session, owner, settings.max_jobs_in_flight)
    check_model(options.model or settings.default_model, settings)
    end_reads(session)


async def check_callback_option(options: JobOptions, settings: Settings) -> None:
    if options.callback_url:
        await run_in_threadpool(check_callback, str(options.callback_url), settings.allow_private_callbacks)


async def _insert_stored(session: Session, storage: Storage, settings: Settings, job: Job) -> None:
    """Insert `job`, whose video is already stored, if its owner is still under the jobs-in-flight limit:
    checked again under the owner's lock, in the transaction that inserts (atomic). When the insert is
    refused, the stored files go."""
    try:
        await run_in_threadpool(_insert, session, settings, job)
    except (DomainError, IntegrityError):
        await run_in_threadpool(session.rollback)
        await run_in_threadpool(storage.delete_prefix, f"jobs/{job.id}/")
        raise


def _insert(session: Session, settings: Settings, job: Job) -> None:
    repository.lock_owner(session, job.owner)
    check_in_flight(session, job.owner, settings.max_jobs_in_flight)
    job.queue = choose_queue(session, job.device, settings.worker_alive_window_s)
    session.add(job)
    session.flush()  # a raced Idempotency-Key fails here, while the stored files can still go
    enqueue_after_commit(session, job)


def same_request(existing: Job, upload: ReceivedUpload, options: JobOptions) -> Job:
    """The job an Idempotency-Key already made, if this request is a retry of the one that made it:
    the same file and options. Another request under a used key is a client bug, said so (422)."""
    same_file = existing.input_sha256 in (None, upload.sha256) and existing.input_size == upload.size
    if same_file and existing.options == options.model_dump(mode="json"):
        return existing
    raise Invalid("idempotency_key_reused", "this Idempotency-Key was used for another file or other options")


def _new_job(
    job_id: uuid.UUID,
    owner: str,
    upload: ReceivedUpload,
    options: JobOptions,
    video: VideoInfo,
    idempotency_key: str | None,
    settings: Settings,
) -> Job:
    return Job(
        **_analysis_fields(job_id, options, upload.filename, settings),
        owner=owner,
        idempotency_key=idempotency_key,
        input_filename=upload.filename,
        input_size=upload.size,
        input_sha256=upload.sha256,
        video=video.as_dict(),
    )


def _analysis_fields(
    job_id: uuid.UUID, options: JobOptions, filename: str, settings: Settings
) -> dict[str, Any]:
    """What a new job takes from its options (the queue is chosen when it is inserted)."""
    return {
        "id": job_id,
        "model": options.model or settings.default_model,
        "device": options.device,
        "callback_url": str(options.callback_url) if options.callback_url else None,
        "options": options.model_dump(mode="json"),
        "input_key": input_key(job_id, filename),
        "output_keys": {},
        "timings": {},
    }


def cancel_job(session: Session, job: Job) -> Job:
    """Queued jobs end at once; running jobs stop at the worker's next cancellation check."""
    if job.job_status.is_terminal:
        raise Conflict("job_finished", f"the job already ended ({job.status})")
    job.cancel_requested = True
    if job.status == JobStatus.queued.value:
        queued = (JobStatus.queued.value,)
        end_job(session, job.id, JobStatus.cancelled, from_statuses=queued, stage="cancelled")
    session.flush()  # the request keeps it in its one transaction; the reload below must not lose it
    session.refresh(job)
    return job


def delete_job(session: Session, storage: Storage, job: Job) -> None:
    """The job's row and every file of it (input, outputs, still). A running job is refused (409
    job_running): its worker would otherwise write outputs for a job that is gone."""
    if job.status == JobStatus.running.value:
        raise Conflict("job_running", "the job is running: cancel it, then delete it once it ended")
    storage.delete_prefix(f"jobs/{job.id}/")
    session.delete(job)  # a queued job's message is dropped by the worker: its row is gone


async def rerun_job(
    session: Session, storage: Storage, settings: Settings, job: Job, options: JobOptions
) -> Job:
    """A new job from the stored input of `job`, with new options (same checks as an upload)."""
    if job.files_deleted_at is not None:
        raise Gone(
            "outputs_deleted", "the job's files were deleted (FILE_RETENTION_DAYS): upload the video again"
        )
    await run_in_threadpool(check_model, options.model or settings.default_model, settings)
    await check_callback_option(options, settings)
    # A cheap refusal before the copy.
    await run_in_threadpool(check_in_flight, session, job.owner, settings.max_jobs_in_flight)
    new = Job(
        **_analysis_fields(uuid.uuid4(), options, job.input_filename, settings),
        owner=job.owner, input_filename=job.input_filename, input_size=job.input_size,
        input_sha256=job.input_sha256, video=job.video,
        api_key_id=job.api_key_id, title=job.title,
    )  # fmt: skip
    source = job.input_key
    await run_in_threadpool(end_reads, session)  # no connection held while a large video is copied
    await run_in_threadpool(storage.copy, source, new.input_key)
    await _insert_stored(session, storage, settings, new)
    return new


def etag_of(body: dict[str, Any]) -> str:
    """A strong ETag of a JSON document (the same bytes give the same tag on every API server)."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return f'"{digest[:32]}"'


def encode_cursor(job: Job) -> str:
    raw = json.dumps([job.created_at.isoformat(), str(job.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created_at, job_id = json.loads(base64.urlsafe_b64decode(padded))
        when, after_id = datetime.fromisoformat(created_at), uuid.UUID(job_id)
        if when.tzinfo is None:  # ours always carry their zone
            raise ValueError("cursor time without a time zone")
        return when, after_id
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise BadRequest("invalid_cursor", "the cursor is not one this API returned") from exc


def public_base(settings: Settings, request_base: str | None = None) -> str:
    """Where clients reach the API, for absolute links: PUBLIC_BASE_URL when set (the Host header is
    the client's to choose and must not end up in signed links), else the request's own base, else
    (a webhook, sent outside any request) the address `serve` listens on."""
    base = settings.public_base_url or request_base or f"http://{settings.host}:{settings.port}"
    return base.rstrip("/") + "/"


def stored_links(job: Job, base_url: str, settings: Settings) -> dict[str, str]:
    """Signed, expiring links to everything stored for a succeeded job (outputs and still): usable
    without the API key (a <video>, an <img>), until they expire."""
    if job.status != JobStatus.succeeded.value:
        return {}
    expires_s = settings.download_url_expires_s
    links = {}
    for name in job.output_keys:
        query = sign_output(settings.secret_key, job.id, name, expires_s)
        links[name] = f"{base_url}api/v1/jobs/{job.id}/outputs/{name}?{query}"
    return links


def contract_outputs(links: dict[str, str]) -> dict[str, str]:
    """Of stored links, the contract's outputs (`outputs` of a job and of its webhook)."""
    return {name: link for name, link in links.items() if name in OUTPUT_NAMES}


def output_links(job: Job, base_url: str, settings: Settings) -> dict[str, str]:
    return contract_outputs(stored_links(job, base_url, settings))


def to_out(job: Job, base_url: str) -> JobOut:
    error = JobErrorOut(code=job.error_code, message=job.error_message or "") if job.error_code else None
    links = stored_links(job, base_url, get_settings())
    return JobOut(
        id=job.id,
        status=JobStatus(job.status),
        progress=job.progress,
        stage=job.stage,
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        error=error,
        outputs=contract_outputs(links),
        video=VideoOut(**job.video) if job.video else None,
        model=job.model,
        device=job.device,
        queue=job.queue,
        filename=job.input_filename,
        size=job.input_size,
        title=job.title,
        figures=SessionFigures(**job.figures) if job.figures else None,
        thumbnail=links.get(THUMBNAIL_NAME),
        timings=JobTimings(**job.timings) if job.timings else None,
        webhook=_webhook_out(job),
    )


def _webhook_out(job: Job) -> WebhookOut | None:
    if not job.callback_url:
        return None
    status = job.callback_status if job.callback_status in ("delivered", "failed") else "pending"
    return WebhookOut(status=status, attempts=job.callback_attempts, error=job.callback_error)
