"""The result of pose estimation on one image."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shadow_trainer.pose.keypoint_names import NUM_KEYPOINTS


@dataclass(frozen=True)
class PoseDetections:
    """People in one image, in source-pixel coordinates, best score first.

    ``boxes`` (n, 4) x1 y1 x2 y2; ``scores`` (n,); ``keypoints`` (n, 17, 3) x, y, confidence.
    """

    boxes: np.ndarray
    scores: np.ndarray
    keypoints: np.ndarray

    @classmethod
    def empty(cls) -> PoseDetections:
        return cls(
            boxes=np.zeros((0, 4), np.float32),
            scores=np.zeros((0,), np.float32),
            keypoints=np.zeros((0, NUM_KEYPOINTS, 3), np.float32),
        )

    def __len__(self) -> int:
        return int(self.scores.shape[0])


def keypoints_between(before: np.ndarray, after: np.ndarray, weight: float) -> np.ndarray:
    """Keypoints (… × 17 × 3) ``weight`` (0..1) of the way from ``before`` to ``after``: positions linear,
    confidences the lower of the two (a point in between is no surer than either end)."""
    out = before * (1 - weight) + after * weight
    out[..., 2] = np.minimum(before[..., 2], after[..., 2])
    return out
