"""Writing a folder of simulated clips: ``clip_NNNN.keypoints.json`` + ``clip_NNNN.labels.json``."""

from __future__ import annotations

import json
from pathlib import Path

from boxing_sim.clip import simulate_clip


def write_dataset(folder: Path, clips: int, seed: int) -> list[Path]:
    """Simulate ``clips`` clips (clip i uses seed ``seed * 100_003 + i``); returns the keypoint files."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(clips):
        clip = simulate_clip(clip_seed(seed, i))
        kp = folder / f"clip_{i:04d}.keypoints.json"
        kp.write_text(json.dumps(clip.keypoints), encoding="utf-8")
        (folder / f"clip_{i:04d}.labels.json").write_text(json.dumps(clip.labels, indent=1), encoding="utf-8")
        written.append(kp)
    return written


def clip_seed(seed: int, index: int) -> int:
    return seed * 100_003 + index
