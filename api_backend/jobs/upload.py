"""Streaming multipart parsing for video uploads.

The request body goes straight from the socket to a temporary file on disk, so memory stays flat
whatever the file size, and an oversize upload is refused as soon as it crosses the limit.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

MAX_FIELD_BYTES = 4096
MAX_FIELDS = 16
MAX_PART_HEADER_BYTES = 8192  # all header lines of one part together
MULTIPART_OVERHEAD = 64 * 1024
_MEDIA_TYPE_RE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


class UploadError(Exception):
    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code, self.code, self.message = status_code, code, message


@dataclass
class ReceivedUpload:
    path: Path | None = None
    filename: str = ""
    content_type: str | None = None
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    @property
    def sha256(self) -> str:
        return self.digest.hexdigest()

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def safe_filename(raw: str) -> str:
    """Keep only the last path component, printable characters, at most 200 characters."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable() and ch not in '"<>|')
    return name.strip(" .")[:200] or "video"


def as_the_client_named_it(message: str, local: Path, filename: str) -> str:
    """An engine message about our copy of a file (a spool path, the worker's `input.mp4`), speaking
    of the file by the name the client gave it instead."""
    return message.replace(str(local), filename).replace(local.name, filename)


def safe_content_type(raw: str | None) -> str | None:
    """The part's media type if it looks like one (`video/mp4`), else None: it is stored and sent on
    to S3 as a header, so no parameters, control characters or unbounded lengths."""
    if not raw:
        return None
    media_type = raw.split(";", 1)[0].strip().lower()
    return media_type if len(media_type) <= 100 and _MEDIA_TYPE_RE.fullmatch(media_type) else None


class _Collector:
    """python-multipart callbacks that route the `file` part to disk and small fields to memory."""

    def __init__(self, tmp_dir: Path, max_bytes: int, file_field: str) -> None:
        self.tmp_dir, self.max_bytes, self.file_field = tmp_dir, max_bytes, file_field
        self.upload = ReceivedUpload()
        self._headers: dict[str, str] = {}
        self._header_name = b""
        self._header_value = b""
        self._field: str | None = None
        self._value = bytearray()
        self._file: BinaryIO | None = None
        self._saw_file = False
        self._header_bytes = 0
        self._fields_seen = 0
        self.complete = False  # the closing boundary was read

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_cb,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_end": self._end,
        }

    def _end(self) -> None:
        self.complete = True

    def _part_begin(self) -> None:
        self._headers, self._field, self._value, self._header_bytes = {}, None, bytearray(), 0

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        self._check_header_size(end - start)

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._check_header_size(end - start)

    def _check_header_size(self, added: int) -> None:
        self._header_bytes += added
        if self._header_bytes > MAX_PART_HEADER_BYTES:
            raise UploadError(400, "part_headers_too_large", "the headers of a multipart part are too long")

    def _header_end(self) -> None:
        # latin-1 maps bytes 1:1, so parse_options_header (which encodes str as latin-1) gets the raw
        # bytes back; UTF-8 names (`фильм 🥊.mp4`) are decoded from those below.
        self._headers[self._header_name.decode("latin-1").lower()] = self._header_value.decode("latin-1")
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get("content-disposition", ""))
        name = params.get(b"name", b"").decode("utf-8", "replace")
        filename = params.get(b"filename")
        if name == self.file_field and filename is not None:
            if self._saw_file:
                raise UploadError(422, "too_many_files", "send exactly one video in the `file` field")
            self._saw_file = True
            self.upload.filename = safe_filename(filename.decode("utf-8", "replace"))
            self.upload.content_type = safe_content_type(self._headers.get("content-type"))
            fd, path = tempfile.mkstemp(dir=self.tmp_dir, prefix="upload-", suffix=".part")
            self.upload.path = Path(path)
            self._file = os.fdopen(fd, "wb")
            return
        self._fields_seen += 1  # parts, not names: a repeated name counts each time
        if self._fields_seen > MAX_FIELDS:
            raise UploadError(422, "too_many_fields", f"too many form fields (at most {MAX_FIELDS})")
        self._field = name

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._file is not None:
            self.upload.size += len(chunk)
            if self.upload.size > self.max_bytes:
                raise UploadError(413, "upload_too_large", f"the video is larger than {self.max_bytes} bytes")
            self._file.write(chunk)
            self.upload.digest.update(chunk)
            return
        self._value += chunk
        if len(self._value) > MAX_FIELD_BYTES:
            raise UploadError(422, "field_too_large", f"form field {self._field!r} is too long")

    def _part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self._field is not None:
            self.upload.fields[self._field] = self._value.decode("utf-8", "replace")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def _boundary(request: Request) -> bytes:
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or not params.get(b"boundary"):
        raise UploadError(415, "unsupported_media_type", "send the video as multipart/form-data")
    return params[b"boundary"]


def _check_declared_length(request: Request, max_bytes: int) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes + MULTIPART_OVERHEAD:
        raise UploadError(413, "upload_too_large", f"the video is larger than {max_bytes} bytes")


async def receive_upload(
    request: Request, tmp_dir: Path, max_bytes: int, file_field: str = "file"
) -> ReceivedUpload:
    """Parse a multipart body; the caller owns (and must discard) the returned temporary file.

    Every byte read counts against the limit (preamble, fields, epilogue too), and a body that ends
    before its closing boundary is refused: a cut-off upload is never stored as if it were whole.
    """
    boundary = _boundary(request)
    _check_declared_length(request, max_bytes)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    collector = _Collector(tmp_dir, max_bytes, file_field)
    try:
        await _parse(request, boundary, collector, max_bytes + MULTIPART_OVERHEAD)
    except UploadError:
        collector.upload.discard()
        raise
    finally:
        collector.close()
    if collector.upload.path is None:
        raise UploadError(422, "missing_file", "the form has no `file` part with the video")
    return collector.upload


async def _parse(request: Request, boundary: bytes, collector: _Collector, max_body_bytes: int) -> None:
    """Feed the body to python-multipart; every way it can go wrong comes out as an UploadError."""
    try:
        parser = MultipartParser(boundary, collector.callbacks())  # type: ignore[arg-type]
        received = 0
        async for chunk in request.stream():
            received += len(chunk)
            if received > max_body_bytes:
                raise UploadError(
                    413, "upload_too_large", f"the request body is larger than {max_body_bytes} bytes"
                )
            parser.write(chunk)
        parser.finalize()
    except FormParserError as exc:  # malformed parts, or a boundary python-multipart refuses (> 256)
        raise UploadError(400, "malformed_multipart", f"the multipart body is malformed: {exc}") from exc
    except ClientDisconnect as exc:
        raise UploadError(400, "client_disconnected", "the client went away before the upload ended") from exc
    if not collector.complete:
        raise UploadError(400, "incomplete_multipart", "the body ended before the multipart closing boundary")
