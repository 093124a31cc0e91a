"""Exporting a YOLO pose checkpoint to ONNX once, cached by weights hash and input size.

Several worker processes may ask for the same export at once: an exclusive file lock makes
one of them do it while the others wait, and the file appears under its final name only
through an atomic rename, so a reader never sees a half-written model.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shadow_trainer.errors import AnalysisError
from shadow_trainer.pose.ultralytics_env import configure_ultralytics_offline

log = logging.getLogger(__name__)

CACHE_DIR_ENV = "SHADOW_ONNX_CACHE"
_OPSET = 17


def default_cache_dir(weights: Path, model_dir: Path | None) -> Path:
    """``$SHADOW_ONNX_CACHE``, else ``<model_dir>/onnx-cache``, else a per-user cache folder."""
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env)
    if model_dir is not None and os.access(model_dir, os.W_OK):
        return Path(model_dir) / "onnx-cache"
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "shadow-trainer" / "onnx"


def weights_digest(weights: Path) -> str:
    digest = hashlib.sha256()
    with weights.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()[:16]


@contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _export(weights: Path, imgsz: int, work_dir: Path) -> Path:
    configure_ultralytics_offline()
    from ultralytics import YOLO

    # Ultralytics writes the .onnx next to the weights: export from a private copy.
    local = work_dir / weights.name
    shutil.copyfile(weights, local)
    # Dynamic axes: one file serves every batch size and every letterbox shape at this imgsz.
    exported = YOLO(str(local), task="pose").export(
        format="onnx", imgsz=imgsz, dynamic=True, simplify=True, opset=_OPSET, device="cpu", verbose=False
    )
    return Path(str(exported))


def exported_onnx(weights: Path, *, imgsz: int, cache_dir: Path) -> Path:
    """Path of the cached ONNX export of ``weights``, exporting it first if needed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / f"{weights.stem}-{weights_digest(weights)}-{imgsz}.onnx"
    if target.is_file():
        return target
    with exclusive_lock(cache_dir / f"{target.name}.lock"):
        if target.is_file():  # another process finished it while we waited
            return target
        log.info("exporting %s to ONNX (once; cached at %s)", weights.name, target)
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=".export-") as tmp:
            try:
                produced = _export(weights, imgsz, Path(tmp))
            except Exception as exc:  # Ultralytics raises many kinds; the caller needs one
                raise AnalysisError(
                    f"ONNX export of {weights.name} failed: {exc}", code="model_export_failed"
                ) from exc
            os.replace(produced, target)
    return target
