"""HTTP endpoints under /api/v1/jobs."""

from __future__ import annotations

import mimetypes
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, status
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from api_backend.auth.dependencies import get_owner, presented_key
from api_backend.auth.rate_limit import enforce_client_rate_limit, enforce_rate_limit
from api_backend.auth.signing import verify_output
from api_backend.db.engine import get_sessionmaker
from api_backend.deps import OwnerDep, SessionDep, SettingsDep, StorageDep
from api_backend.domain_errors import NotFound
from api_backend.errors import ApiError, validation_details
from api_backend.jobs import repository, service
from api_backend.jobs.events import job_event_stream
from api_backend.jobs.models import OUTPUT_NAMES, STORED_NAMES, Job, JobStatus
from api_backend.jobs.schemas import (
    JobOptions,
    JobOut,
    JobPage,
    JobPatch,
    ProgressOut,
    ProgressPoint,
    SessionFigures,
)
from api_backend.jobs.upload import UploadError, receive_upload
from api_backend.observability.api_metrics import JOBS_CREATED, UPLOAD_BYTES
from api_backend.openapi_docs import DOWNLOAD, ETAG, EVENT_STREAM, LOCATION, REDIRECT, errors
from api_backend.settings import get_settings
from api_backend.storage import ObjectNotFound
from shadow_trainer.pose.options import DEFAULT_MODEL, DEVICES

router = APIRouter(
    prefix="/api/v1/jobs",
    tags=["jobs"],
    dependencies=[Depends(enforce_rate_limit)],
)
# Downloads authenticate by signed link or API key, so their rate limit goes by client address.
downloads_router = APIRouter(
    prefix="/api/v1/jobs", tags=["jobs"], dependencies=[Depends(enforce_client_rate_limit)]
)

sessions_router = APIRouter(
    prefix="/api/v1/sessions", tags=["jobs"], dependencies=[Depends(enforce_rate_limit)]
)

UPLOAD_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": "the video"},
                        "model": {"type": "string", "description": f"pose model name, e.g. {DEFAULT_MODEL}"},
                        "device": {"type": "string", "enum": list(DEVICES), "default": "auto"},
                        "callback_url": {
                            "type": "string",
                            "format": "uri",
                            "description": "POSTed the job when it ends (Standard Webhooks signature)",
                        },
                    },
                },
                "example": {
                    "file": "(the video's bytes)",
                    "device": "auto",
                    "callback_url": "https://coach.example.com/hooks/shadow-trainer",
                },
            }
        },
    }
}


def public_base_url(request: Request) -> str:
    return service.public_base(get_settings(), str(request.base_url))


def job_created_response(job: Job, request: Request, *, created: bool = True) -> JSONResponse:
    """A new job (202), or the one an earlier request already made (200), with its address."""
    body = service.to_out(job, public_base_url(request)).model_dump(mode="json")
    return JSONResponse(
        body, status_code=202 if created else 200, headers={"Location": f"/api/v1/jobs/{job.id}"}
    )


def parse_job_id(job_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(job_id)
    except ValueError as exc:
        raise NotFound("job_not_found", f"no job with id {job_id!r}") from exc


def load_job(session: Session, job_id: str, owner: str | None) -> Job:
    job = repository.get_job(session, parse_job_id(job_id), owner=owner)
    if job is None:
        raise NotFound("job_not_found", f"no job with id {job_id!r}")
    return job


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    openapi_extra=UPLOAD_OPENAPI,
    summary="Upload a video and start its analysis",
    responses={
        202: {"description": "the job, queued", "headers": LOCATION},
        200: {
            "model": JobOut,
            "description": "the job an earlier request with this Idempotency-Key made",
            "headers": LOCATION,
        },
        **errors(400, 401, 413, 415, 422, 429, 503),
    },
)
async def create_job(
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    owner: OwnerDep,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=255, description="any unique string: a retry with it returns the first job"),
    ] = None,
) -> Response:
    try:
        upload = await receive_upload(request, settings.upload_tmp_dir, settings.max_upload_bytes)
    except UploadError as exc:
        raise ApiError(exc.status_code, exc.code, exc.message) from exc
    try:
        options = JobOptions.model_validate(upload.fields)
        job, created = await service.create_job(
            session, storage, settings, owner=owner, upload=upload, options=options,
            idempotency_key=idempotency_key, api_key_id=getattr(request.state, "key_id", None),
        )  # fmt: skip
        UPLOAD_BYTES.inc(upload.size)
        if created:
            JOBS_CREATED.labels(job.queue).inc()
    except ValidationError as exc:
        details = validation_details(exc.errors())
        raise ApiError(422, "validation_error", "invalid form fields", details=details) from exc
    finally:
        upload.discard()
    return job_created_response(job, request, created=created)


@router.get(
    "", response_model=JobPage, summary="Job history, newest first", responses=errors(400, 401, 422, 429)
)
def list_jobs(
    request: Request,
    session: SessionDep,
    owner: OwnerDep,
    status: JobStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> JobPage:
    after = service.decode_cursor(cursor) if cursor else None
    jobs = repository.list_jobs(session, owner=owner, status=status, limit=limit + 1, after=after)
    page, more = jobs[:limit], len(jobs) > limit
    base = public_base_url(request)
    return JobPage(
        items=[service.to_out(job, base) for job in page],
        next_cursor=service.encode_cursor(page[-1]) if more else None,
    )


@sessions_router.get(
    "",
    response_model=ProgressOut,
    summary="Analysed sessions over dates, oldest first (the progress page)",
    responses=errors(401, 422, 429),
)
def list_sessions(
    session: SessionDep,
    owner: OwnerDep,
    since: Annotated[date | None, Query(description="first day (UTC), inclusive")] = None,
    until: Annotated[date | None, Query(description="last day (UTC), inclusive")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 365,
) -> ProgressOut:
    """The figures of every succeeded job in which somebody boxed (from the database: no storage
    read), to plot a boxer's output, speed and combinations over time."""
    start = datetime.combine(since, time(), UTC) if since else None
    end = datetime.combine(until + timedelta(days=1), time(), UTC) if until else None
    jobs = repository.analysed_sessions(session, owner=owner, since=start, until=end, limit=limit + 1)
    points = [
        ProgressPoint(id=job.id, created_at=job.created_at, name=job.title or job.input_filename,
                      figures=SessionFigures(**job.figures or {}))
        for job in reversed(jobs[:limit])
    ]  # fmt: skip
    return ProgressOut(sessions=points, truncated=len(jobs) > limit)


@router.get(
    "/{job_id}",
    response_model=JobOut,
    summary="One job",
    responses={
        200: {"description": "the job", "headers": ETAG},
        304: {"description": "unchanged since the ETag sent in If-None-Match", "headers": ETAG},
        **errors(401, 404, 422, 429),
    },
)
def get_job(
    job_id: str,
    request: Request,
    session: SessionDep,
    owner: OwnerDep,
    if_none_match: Annotated[str | None, Header(max_length=1024)] = None,
) -> Response:
    """With `If-None-Match: <the ETag of an earlier answer>`, 304 while the job has not changed: a
    client polling a long job moves a few bytes per poll."""
    body = service.to_out(load_job(session, job_id, owner), public_base_url(request)).model_dump(mode="json")
    etag = service.etag_of(body)
    headers = {"ETag": etag}  # no Cache-Control: nginx micro-caches status polls for a second
    if if_none_match and etag in {tag.strip() for tag in if_none_match.split(",")}:
        return Response(status_code=304, headers=headers)
    return JSONResponse(body, headers=headers)


@router.patch(
    "/{job_id}", response_model=JobOut, summary="Give a job a title", responses=errors(401, 404, 422, 429)
)
def update_job(
    job_id: str, changes: JobPatch, request: Request, session: SessionDep, owner: OwnerDep
) -> JobOut:
    job = load_job(session, job_id, owner)
    job.title = (changes.title or "").strip() or None  # blank or null: no title
    return service.to_out(job, public_base_url(request))


@router.delete(
    "/{job_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a job with its video and outputs",
    responses=errors(401, 404, 409, 429, 503),
)
def delete_job(job_id: str, session: SessionDep, storage: StorageDep, owner: OwnerDep) -> Response:
    service.delete_job(session, storage, load_job(session, job_id, owner))
    return Response(status_code=204)


@router.post(
    "/{job_id}/rerun",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    summary="Analyse a job's stored video again, with other options",
    responses={
        202: {"description": "the new job, queued", "headers": LOCATION},
        **errors(401, 404, 410, 422, 429, 503),
    },
)
async def rerun_job(
    job_id: str, options: JobOptions, request: Request, session: SessionDep, storage: StorageDep,
    settings: SettingsDep, owner: OwnerDep,
) -> JSONResponse:  # fmt: skip
    job = await run_in_threadpool(load_job, session, job_id, owner)
    new = await service.rerun_job(session, storage, settings, job, options)
    JOBS_CREATED.labels(new.queue).inc()
    return job_created_response(new, request)


@router.post(
    "/{job_id}/cancel",
    response_model=JobOut,
    summary="Cancel a queued or running job",
    responses=errors(401, 404, 409, 429),
)
def cancel_job(job_id: str, request: Request, session: SessionDep, owner: OwnerDep) -> JobOut:
    job = service.cancel_job(session, load_job(session, job_id, owner))
    return service.to_out(job, public_base_url(request))


@downloads_router.get(
    "/{job_id}/outputs/{name}",
    summary="Download an output, with a signed link from the job or with the API key",
    response_class=Response,
    responses={200: DOWNLOAD, 307: REDIRECT, **errors(401, 403, 404, 410, 422, 429, 503)},
)
def download_output(
    job_id: str,
    name: str,
    request: Request,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    expires: Annotated[int | None, Query(ge=0, le=2**40)] = None,
    signature: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    if expires is not None and signature is not None:
        if not verify_output(settings.secret_key, parse_job_id(job_id), name, expires, signature):
            raise ApiError(403, "link_expired", "the download link is invalid or expired; read the job again")
        job = load_job(session, job_id, owner=None)
    else:
        job = load_job(session, job_id, get_owner(request))
    if name not in STORED_NAMES:
        raise ApiError(
            404, "output_not_found", f"unknown output {name!r}; outputs are {', '.join(OUTPUT_NAMES)}"
        )
    if job.files_deleted_at is not None:
        deleted = f"{job.files_deleted_at:%Y-%m-%d}"
        message = f"the job's files were deleted on {deleted} (FILE_RETENTION_DAYS); its history remains"
        raise ApiError(410, "outputs_deleted", message)
    key = job.output_keys.get(name) if job.status == JobStatus.succeeded.value else None
    if key is None:
        raise ApiError(404, "output_not_ready", f"the job has no {name} (status: {job.status})")
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    url = storage.download_url(key, filename=name, expires_s=settings.download_url_expires_s)
    if url is not None and not name.endswith(".json"):
        return RedirectResponse(url, status_code=307)
    if url is not None:
        # JSON is read by the web app with fetch(): streamed from here, it needs no CORS on the bucket.
        headers = {"Content-Disposition": f'inline; filename="{name}"'}
        if request.method == "HEAD":
            headers["Content-Length"] = str(storage.size(key))
            return Response(status_code=200, media_type=media_type, headers=headers)
        return StreamingResponse(storage.iter_chunks(key), media_type=media_type, headers=headers)
    try:
        path = storage.local_path(key)
    except ObjectNotFound as exc:
        raise ApiError(404, "output_missing", f"{name} is no longer stored") from exc
    assert path is not None
    return FileResponse(path, media_type=media_type, filename=name, content_disposition_type="inline")


# The same handler for HEAD (size and type without the body), as an operation of its own.
downloads_router.add_api_route(
    "/{job_id}/outputs/{name}",
    download_output,
    methods=["HEAD"],
    name="download_output_headers",
    summary="An output's headers (size, type) without its body",
    response_class=Response,
    responses={200: DOWNLOAD, 307: REDIRECT, **errors(401, 403, 404, 410, 422, 429, 503)},
)


@router.get(
    "/{job_id}/events",
    summary="Server-Sent Events: the job on every change, until it ends",
    response_class=EventSourceResponse,
    responses={200: EVENT_STREAM, **errors(401, 404, 422, 429)},
)
def job_events(
    job_id: str,
    request: Request,
    owner: OwnerDep,
    last_event_id: Annotated[str | None, Header(max_length=128)] = None,
) -> EventSourceResponse:
    # No SessionDep: its connection would be held for the stream's life; each poll takes its own.
    with get_sessionmaker()() as session:
        job = load_job(session, job_id, owner)
    key = presented_key(request) if get_settings().auth_mode == "api_key" else None
    return job_event_stream(job.id, owner, key, public_base_url(request), last_event_id)
