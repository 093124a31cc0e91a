"""Giving each person a stable ``track_id`` across frames.

A small ByteTrack-style tracker: every track's box is predicted forward with its recent
velocity, detections are matched to predictions by IoU with the Hungarian algorithm, unmatched
detections start new tracks, and tracks unseen for ``max_lost`` frames are dropped. Ids are
never reused within one video.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

_VELOCITY_SMOOTHING = 0.5


@dataclass
class _Track:
    track_id: int
    box: np.ndarray
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(4, np.float32))
    lost: int = 0

    def predicted(self) -> np.ndarray:
        return self.box + self.velocity * (self.lost + 1)

    def update(self, box: np.ndarray) -> None:
        step = (box - self.box) / (self.lost + 1)
        self.velocity = _VELOCITY_SMOOTHING * self.velocity + (1 - _VELOCITY_SMOOTHING) * step
        self.box = box.astype(np.float32)
        self.lost = 0


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of (n, 4) and (m, 4) x1 y1 x2 y2 boxes."""
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-9)


class PersonTracker:
    def __init__(self, *, min_iou: float = 0.2, max_lost: int = 30) -> None:
        self.min_iou = min_iou
        self.max_lost = max_lost
        self._tracks: list[_Track] = []
        self._next_id = 1

    def update(self, boxes: np.ndarray) -> list[int]:
        """Track ids for this frame's detections (same order as ``boxes``)."""
        ids = [0] * len(boxes)
        unmatched = set(range(len(boxes)))
        if self._tracks and len(boxes):
            predicted = np.stack([t.predicted() for t in self._tracks])
            iou = iou_matrix(predicted, boxes)
            rows, cols = linear_sum_assignment(-iou)
            for r, c in zip(rows, cols, strict=True):
                if iou[r, c] >= self.min_iou:
                    self._tracks[r].update(boxes[c])
                    ids[c] = self._tracks[r].track_id
                    unmatched.discard(int(c))
        matched_ids = set(ids)
        for track in self._tracks:
            if track.track_id not in matched_ids:
                track.lost += 1
        self._tracks = [t for t in self._tracks if t.lost <= self.max_lost]
        for c in sorted(unmatched):
            self._tracks.append(_Track(self._next_id, boxes[c].astype(np.float32)))
            ids[c] = self._next_id
            self._next_id += 1
        return ids


def tracker_for(fps: float) -> PersonTracker:
    """The engine's tracker for a video at ``fps``: a person may vanish for up to a second."""
    return PersonTracker(max_lost=max(15, round(fps)))
