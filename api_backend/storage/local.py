"""Local-folder storage: the embedded default for a single machine."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from api_backend.storage.base import ObjectNotFound, Storage, StorageError

COPY_CHUNK = 1024 * 1024


class LocalStorage(Storage):
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root) or path == self.root:
            raise StorageError(f"invalid storage key {key!r}")
        return path

    def _atomic_target(self, key: str) -> tuple[Path, Path]:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        os.close(fd)
        return target, Path(tmp)

    def put_file(self, key: str, path: Path, content_type: str | None = None, *, move: bool = False) -> None:
        target, tmp = self._atomic_target(key)
        try:
            if move:
                shutil.move(path, tmp)
            else:
                shutil.copyfile(path, tmp)
            os.replace(tmp, target)  # readers never see a half-written object
        finally:
            tmp.unlink(missing_ok=True)

    def get_file(self, key: str, destination: Path) -> None:
        source = self._existing(key)
        shutil.copyfile(source, destination)

    def copy(self, source_key: str, key: str) -> None:
        self.put_file(key, self._existing(source_key))

    def iter_chunks(self, key: str, chunk_size: int = COPY_CHUNK) -> Iterator[bytes]:
        return _chunks(self._existing(key), chunk_size)  # a missing object raises here, not mid-stream

    def _existing(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        return path

    def local_path(self, key: str) -> Path | None:
        return self._existing(key)

    def size(self, key: str) -> int:
        return self._existing(key).stat().st_size

    def delete_prefix(self, prefix: str) -> int:
        base = self._path(prefix.rstrip("/"))
        if base.is_file():
            base.unlink()
            return 1
        if not base.is_dir():
            return 0
        count = sum(1 for p in base.rglob("*") if p.is_file())
        shutil.rmtree(base)
        return count

    def download_url(self, key: str, *, filename: str, expires_s: int) -> str | None:
        return None

    def ping(self) -> None:
        try:
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".ping-"):
                pass
        except OSError as exc:
            raise StorageError(f"storage folder {self.root} is not writable: {exc}") from exc


def _chunks(path: Path, chunk_size: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            yield chunk
