"""All-or-nothing job outputs: everything is written to a staging folder, then moved in.

The staging folder sits beside ``out_dir`` (same filesystem, so the moves are atomic renames)
and is removed whatever happens, so an error or a cancel never leaves half-written files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

OUTPUT_NAMES = ("annotated.mp4", "keypoints.json", "punches.json", "summary.json")


@contextmanager
def staging_dir(out_dir: Path) -> Iterator[Path]:
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def publish(staging: Path, out_dir: Path) -> dict[str, Path]:
    """Move the finished outputs into ``out_dir``; returns name → final path."""
    missing = [name for name in OUTPUT_NAMES if not (staging / name).is_file()]
    if missing:
        raise RuntimeError(f"outputs missing before publish: {missing}")
    out_dir.mkdir(parents=True, exist_ok=True)
    published: dict[str, Path] = {}
    # summary.json last: its presence tells a reader that the other three are complete.
    for name in OUTPUT_NAMES:
        os.replace(staging / name, out_dir / name)
        published[name] = out_dir / name
    return published
