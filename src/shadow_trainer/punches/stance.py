"""Orthodox or southpaw from the whole clip.

Two cues, each strongest in the views where the other is weak:
- facing: seen from the side, the lead foot/hand is on the side the nose points to;
- depth: seen from the front, the lead foot is nearer the camera, so it sits lower in the image.
A labelled-left part being the lead part means orthodox.
"""

from __future__ import annotations

import numpy as np

from shadow_trainer.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.punches.features import BodySeries

DEFAULT_STANCE = "orthodox"
_PAIRS = (("ankle", 1.0), ("knee", 0.6), ("wrist", 0.4))


def stance_score(body: BodySeries) -> float:
    """Positive means orthodox (left side leads), negative southpaw; the size is the evidence."""
    pts = body.points / body.torso_px
    neck = (pts[:, K["left_shoulder"]] + pts[:, K["right_shoulder"]]) / 2
    facing = pts[:, K["nose"], 0] - neck[:, 0]
    frontal = np.clip(
        np.abs(pts[:, K["left_shoulder"], 0] - pts[:, K["right_shoulder"], 0])
        * body.torso_px
        / body.shoulder_width_px,
        0.0,
        1.0,
    )
    score = 0.0
    for part, weight in _PAIRS:
        left, right = pts[:, K[f"left_{part}"]], pts[:, K[f"right_{part}"]]
        ahead = facing * (left[:, 0] - right[:, 0])
        score += weight * _nanmean(ahead)
        if part == "ankle":
            lower = (left[:, 1] - right[:, 1]) * frontal**2
            score += 0.5 * weight * _nanmean(lower)
    return score


def detect_stance(body: BodySeries | None) -> str:
    if body is None:
        return DEFAULT_STANCE
    return "southpaw" if stance_score(body) < 0 else "orthodox"


def _nanmean(values: np.ndarray) -> float:
    good = values[np.isfinite(values)]
    return float(good.mean()) if good.size else 0.0
