"""Which tracked person is the one the video is about: the most prominent, by size and centrality
over the frames where they are seen (the person a coach filming would want analysed)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from shadow_trainer.tracking.series import Track


def prominence(track: Track, width: int, height: int) -> float:
    """Sum over frames of sqrt(box area share) × closeness of the box centre to the frame centre."""
    boxes = track.boxes[np.isfinite(track.boxes[:, 0])]
    if not len(boxes):
        return 0.0
    area = np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)
    off = np.hypot(
        (boxes[:, 0] + boxes[:, 2]) / (2 * width) - 0.5, (boxes[:, 1] + boxes[:, 3]) / (2 * height) - 0.5
    )
    return float((np.sqrt(area / (width * height)) * (1.0 - 0.8 * np.clip(off / 0.7071, 0.0, 1.0))).sum())


def most_prominent(prominences: Mapping[int, float]) -> int | None:
    """The track id with the highest prominence (the lower id on a tie), None for no tracks."""
    return max(prominences, key=lambda track_id: (prominences[track_id], -track_id), default=None)
