"""Resumable uploads under /api/v1/uploads: the tus 1.0 protocol, then a job made from the upload.

1. `POST /api/v1/uploads` (tus creation: `Upload-Length`, `Upload-Metadata: filename …,filetype …`)
   → 201 with `Location: …/uploads/<id>`.
2. `PATCH /api/v1/uploads/<id>` with `Upload-Offset` and a chunk (≤ RESUMABLE_CHUNK_MB); after a
   dropped connection, `HEAD` says how much arrived and the client goes on from there.
3. `POST /api/v1/uploads/<id>/job` (JSON: model, device, callback_url) → 202 with the job, as
   `POST /api/v1/jobs` would answer; asked again, the same job (200).

The protocol routes come from `tuspyserver`; the guard below runs before any of them reads a byte
of the body (router-level dependencies come first), so an unknown key, another owner's upload or an
oversize chunk is refused before it costs memory.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, status
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask
from tuspyserver import create_tus_router

from api_backend.auth.dependencies import OwnerDep
from api_backend.auth.rate_limit import enforce_rate_limit
from api_backend.deps import SessionDep, SettingsDep, StorageDep
from api_backend.errors import ApiError
from api_backend.jobs.endpoints import job_created_response
from api_backend.jobs.schemas import JobOptions, JobOut
from api_backend.observability.api_metrics import JOBS_CREATED, UPLOAD_BYTES
from api_backend.openapi_docs import LOCATION, errors
from api_backend.settings import get_settings
from api_backend.uploads.ownership import is_owners, new_upload_id
from api_backend.uploads.service import create_job_from_upload
from api_backend.uploads.storage import get_resumable_storage

PREFIX = "/api/v1/uploads"


def _not_found(upload_id: str) -> ApiError:
    return ApiError(404, "upload_not_found", f"no upload with id {upload_id!r}")


def check_creation(request: Request, max_bytes: int) -> None:
    """What the tus creation must declare, and the extensions this server does not take."""
    headers = request.headers
    if "upload-concat" in headers:
        raise ApiError(400, "concatenation_unsupported", "send one upload per video (no Upload-Concat)")
    if "upload-defer-length" in headers or "upload-length" not in headers:
        raise ApiError(400, "upload_length_required", "declare the file size in Upload-Length")
    if headers.get("content-length", "0") != "0" or "transfer-encoding" in headers:
        message = "send the data with PATCH after the creation (no creation-with-upload)"
        raise ApiError(400, "creation_with_upload_unsupported", message)
    length = headers["upload-length"]
    if not length.isdigit():
        raise ApiError(400, "invalid_upload_length", "Upload-Length must be a number of bytes")
    if int(length) == 0:
        raise ApiError(422, "empty_file", "the file is empty")
    if int(length) > max_bytes:
        raise ApiError(413, "upload_too_large", f"the video is larger than {max_bytes} bytes")


def check_chunk(request: Request, max_chunk: int) -> None:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_chunk:
        message = f"send the upload in chunks of at most {max_chunk} bytes"
        raise ApiError(413, "chunk_too_large", message, headers={"Tus-Max-Chunk-Size": str(max_chunk)})


def guard_resumable_request(request: Request, owner: OwnerDep) -> None:
    settings = get_settings()
    request.state.resumable_owner = owner
    upload_id = request.path_params.get("uuid") or request.path_params.get("upload_id")
    if upload_id is not None and not is_owners(upload_id, settings.secret_key, owner):
        raise _not_found(upload_id)
    if request.method == "POST" and upload_id is None:
        check_creation(request, settings.max_upload_bytes)
    elif request.method == "PATCH":
        check_chunk(request, settings.resumable_chunk_bytes)


def check_metadata(metadata: dict[str, str], _upload: dict[str, Any]) -> None:
    # tuspyserver's HEAD answers 400 to an upload without both, so they are asked for up front.
    if not metadata.get("filename") or not metadata.get("filetype"):
        message = "Upload-Metadata needs `filename` and `filetype` (application/octet-stream if unknown)"
        raise ApiError(400, "missing_metadata", message)


def upload_id_for(request: Request) -> Any:
    """tuspyserver's `file_dep`: at creation, an id bound to the caller (see ownership.py)."""

    def choose(_metadata: dict[str, str]) -> dict[str, str]:
        if request.method != "POST":
            return {}
        return {"uid": new_upload_id(get_settings().secret_key, request.state.resumable_owner)}

    return choose


def build_tus_router() -> APIRouter:
    settings = get_settings()
    return create_tus_router(
        prefix=PREFIX,
        max_size=settings.max_upload_bytes,
        days_to_keep=settings.resumable_upload_days,
        pre_create_hook=check_metadata,
        file_dep=upload_id_for,
        storage=get_resumable_storage(),
        tags=["uploads"],
    )


def include_upload_routes(app: Any) -> None:
    guards = [Depends(enforce_rate_limit), Depends(guard_resumable_request)]
    # The protocol's own routes stay out of the OpenAPI document: tus clients (tus-js-client, tuspy)
    # speak it from the protocol's spec; the job route below is documented like the others.
    app.include_router(build_tus_router(), dependencies=guards, include_in_schema=False)
    app.include_router(jobs_from_uploads, dependencies=guards)


jobs_from_uploads = APIRouter(prefix=PREFIX, tags=["uploads"])


@jobs_from_uploads.post(
    "/{upload_id}/job",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    summary="Start the analysis of a finished resumable upload",
    responses={
        202: {"description": "the job, queued", "headers": LOCATION},
        200: {"model": JobOut, "description": "the job this upload already made", "headers": LOCATION},
        **errors(401, 404, 409, 410, 413, 422, 429, 503),
    },
)
async def create_job_from_resumable_upload(
    upload_id: Annotated[str, Path(max_length=64, description="the id at the end of the tus Location")],
    request: Request,
    options: JobOptions,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    owner: OwnerDep,
) -> JSONResponse:
    """The video was sent with the tus protocol (`POST /api/v1/uploads`, then `PATCH`es); this makes
    the job from it, with the same checks as `POST /api/v1/jobs`. The upload is removed once the job
    holds the video and is committed; asking again returns the same job."""
    resumable = get_resumable_storage()
    job, created = await create_job_from_upload(
        session, storage, resumable, settings, owner=owner, upload_id=upload_id,
        options=options, api_key_id=getattr(request.state, "key_id", None),
    )  # fmt: skip
    response = job_created_response(job, request, created=created)
    if created:
        UPLOAD_BYTES.inc(job.input_size)
        JOBS_CREATED.labels(job.queue).inc()
        # Sent with the response, which goes only once the job's transaction committed.
        response.background = BackgroundTask(resumable.delete, upload_id)
    return response
