"""The storage interface every backend implements.

Keys are relative, `/`-separated paths made by the service (never from user input), e.g.
`jobs/<id>/input.mp4` or `jobs/<id>/outputs/annotated.mp4`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path


class StorageError(Exception):
    """The storage backend could not be reached or refused the operation (often transient)."""


class ObjectNotFound(StorageError):
    """No object under that key."""


class Storage(ABC):
    name: str

    @abstractmethod
    def put_file(self, key: str, path: Path, content_type: str | None = None, *, move: bool = False) -> None:
        """Store a local file under `key`. With `move`, the backend may take the file over (no copy)."""

    @abstractmethod
    def get_file(self, key: str, destination: Path) -> None:
        """Copy the object to a local file (streamed)."""

    @abstractmethod
    def copy(self, source_key: str, key: str) -> None:
        """Copy an object inside the store (no round trip through this machine where it can)."""

    @abstractmethod
    def iter_chunks(self, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        """The object's bytes, streamed."""

    @abstractmethod
    def local_path(self, key: str) -> Path | None:
        """The object's path when it already lives on this machine's disk, else None."""

    @abstractmethod
    def size(self, key: str) -> int: ...

    @abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix`; returns how many were deleted."""

    @abstractmethod
    def download_url(self, key: str, *, filename: str, expires_s: int) -> str | None:
        """A time-limited URL a client can download from directly, or None if the API must serve it."""

    @abstractmethod
    def ping(self) -> None:
        """Raise StorageError unless the backend is reachable and writable."""
