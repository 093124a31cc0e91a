"""What the OpenAPI document says beyond the types: each operation's own error answers (with the API's
error body), the headers clients rely on, and examples, so that `/docs` and a generated client show
how the API is really used."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api_backend.errors import HTTP_CODES, ErrorOut
from shadow_trainer.documents.outputs import OUTPUT_NAMES
from shadow_trainer.pose.options import DEFAULT_MODEL

JOB_ID = "6f1c2a9e-2b7d-4c1e-9a51-3f0e8d4b7c21"
JOB_URL = f"/api/v1/jobs/{JOB_ID}"


def header(description: str, type_: str = "string") -> dict[str, Any]:
    return {"description": description, "schema": {"type": type_}}


REQUEST_ID = {
    "X-Request-ID": header("this request's id (also in the logs); quote it when reporting a problem")
}
RETRY_AFTER = {"Retry-After": header("seconds to wait before trying again", "integer")}
LOCATION = {"Location": header("the job's address, `/api/v1/jobs/{id}`")}
ETAG = {"ETag": header("the job's version: send it back as `If-None-Match` for a 304 while nothing changed")}

ERROR_EXAMPLES: dict[int, tuple[str, str]] = {
    400: ("malformed_multipart", "the multipart body is malformed"),
    401: ("unauthorized", "send your API key as `Authorization: Bearer <key>`"),
    403: ("link_expired", "the download link is invalid or expired; read the job again"),
    404: ("job_not_found", f"no job with id '{JOB_ID}'"),
    409: ("job_finished", "the job already ended (succeeded)"),
    410: (
        "outputs_deleted",
        "the job's files were deleted on 2026-11-01 (FILE_RETENTION_DAYS); its history remains",
    ),
    413: ("upload_too_large", "the video is larger than 2147483648 bytes"),
    415: ("unsupported_media_type", "send the video as multipart/form-data"),
    422: ("invalid_video", "holiday.mp4 is not a video FFmpeg can decode"),
    429: ("rate_limited", "too many requests, slow down"),
    503: ("queue_unavailable", "the job queue is unreachable; please retry later"),
}


VALIDATION_EXAMPLE = {
    "error": {
        "code": "validation_error",
        "message": "the request is invalid",
        "details": [
            {
                "loc": ["query", "limit"],
                "msg": "Input should be less than or equal to 100",
                "type": "less_than_equal",
            }
        ],
    }
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers an operation can give, for its `responses=`."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        code, message = ERROR_EXAMPLES[status]
        out[status] = {
            "model": ErrorOut,
            "description": HTTP_CODES[status].replace("_", " "),
            "content": {"application/json": {"example": {"error": {"code": code, "message": message}}}},
        }
        if status in (429, 503):
            out[status]["headers"] = RETRY_AFTER
    return out


FIGURES_EXAMPLE: dict[str, Any] = {
    "track_id": 1, "fighters": 2, "duration_s": 180.0, "punches": 142, "punches_per_minute": 47.3,
    "mean_speed": 6.8, "combos": 31, "combos_per_minute": 10.33,
}  # fmt: skip
SESSIONS_EXAMPLE: dict[str, Any] = {
    "sessions": [
        {
            "id": JOB_ID,
            "created_at": "2026-12-01T09:30:00Z",
            "name": "Sparring, round 1",
            "figures": FIGURES_EXAMPLE,
        }
    ],
    "truncated": False,
}

JOB_EXAMPLE: dict[str, Any] = {
    "id": JOB_ID,
    "status": "succeeded",
    "progress": 1.0,
    "stage": "done",
    "created_at": "2026-12-01T09:30:00Z",
    "started_at": "2026-12-01T09:30:02Z",
    "finished_at": "2026-12-01T09:31:10Z",
    "error": None,
    "outputs": {
        name: f"https://boxing.example.com{JOB_URL}/outputs/{name}?expires=1764585070&signature=9f2c…"
        for name in OUTPUT_NAMES
    },
    "video": {"fps": 30.0, "frames": 5400, "width": 1920, "height": 1080, "duration": 180.0},
    "model": DEFAULT_MODEL,
    "device": "auto",
    "queue": "cpu",
    "filename": "sparring-round-1.mp4",
    "size": 48213504,
    "title": "Sparring, round 1",
    "figures": FIGURES_EXAMPLE,
    "thumbnail": f"https://boxing.example.com{JOB_URL}/outputs/thumbnail.jpg?expires=1764585070&signature=41ab…",
    "timings": {
        "total_s": 68.2,
        "stages_s": {
            "loading_model": 1.1,
            "analyzing": 52.3,
            "classifying": 0.4,
            "writing": 12.9,
            "uploading": 1.2,
        },
        "frames_per_second": 82.6,
    },
    "webhook": {"status": "delivered", "attempts": 1, "error": None},
}

EVENT_STREAM_EXAMPLE = (
    "retry: 2000\n\n"
    'id: "5b0e…"\nevent: job\ndata: {"id": "' + JOB_ID + '", "status": "running", "progress": 0.42, …}\n\n'
    'event: end\ndata: {"status": "succeeded"}\n\n'
)
EVENT_STREAM = {
    "description": (
        "`job` events carry the job (the body of `GET /jobs/{id}`) each time it changes, with its ETag "
        "as the event id (reconnect with `Last-Event-ID`: an unchanged job is not sent again); one "
        "`end` event with the final status closes the stream; comment lines keep it alive."
    ),
    "content": {"text/event-stream": {"schema": {"type": "string"}, "example": EVENT_STREAM_EXAMPLE}},
}

DOWNLOAD = {
    # One binary media type: generators read the body as bytes (the real Content-Type is the file's).
    "description": "the output's bytes, as `video/mp4` or `application/json` (`Content-Disposition: inline`)",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    "headers": {"Content-Length": header("the size in bytes", "integer")},
}
REDIRECT = {
    "description": "with S3 storage: a presigned storage URL for the video (JSON outputs are streamed)",
    "headers": {"Location": header("the presigned URL, valid for DOWNLOAD_URL_EXPIRES_S")},
}


def _add_response_headers(spec: dict[str, Any]) -> None:
    """X-Request-ID is on every answer (the request middleware sets it)."""
    for path in spec["paths"].values():
        for operation in path.values():
            for response in operation["responses"].values():
                response.setdefault("headers", {}).update(REQUEST_ID)


def _use_our_validation_body(spec: dict[str, Any]) -> None:
    """FastAPI documents its own 422 body on operations with parameters; ours answer with ErrorOut."""
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path in spec["paths"].values():
        for operation in path.values():
            answer = operation["responses"].get("422")
            if answer and "HTTPValidationError" in str(answer):
                answer["description"] = "validation error"
                answer["content"] = {"application/json": {"schema": error, "example": VALIDATION_EXAMPLE}}
    for name in ("HTTPValidationError", "ValidationError"):
        spec["components"]["schemas"].pop(name, None)


def install_openapi(app: FastAPI) -> None:
    """Build the document once, with the additions above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            spec = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            _use_our_validation_body(spec)
            _add_response_headers(spec)
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
