"""A fixed-length description of one punch candidate, shared by the rule and learned classifiers.

All lengths are in torso units and all times in seconds, so the numbers mean the same at any fps,
scale or position in the frame.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.punches.detection import Candidate
from shadow_trainer.punches.features import BodySeries

FloatArray = NDArray[np.float64]

FEATURE_NAMES: tuple[str, ...] = (
    "activity",  # peak of the detection signal
    "extension",  # extension ratio at the peak (1 = straight arm)
    "extension_rise",  # extension at peak minus at start
    "elbow_cos",  # pseudo-3D elbow angle cosine at the peak (-1 = straight)
    "wrist_rise",  # upward wrist travel start -> peak
    "wrist_travel",  # image-plane wrist travel start -> peak
    "depth_travel",  # out-of-plane wrist travel start -> peak
    "forearm_vertical",  # |forearm dy| / forearm length at the peak
    "elbow_below_shoulder",  # elbow height under its shoulder at the peak
    "wrist_below_shoulder",
    "wrist_inward",  # wrist travel toward the other shoulder, along the shoulder line
    "peak_speed",  # shoulder widths per second
    "duration",  # start -> end, seconds
    "rise_time",  # start -> peak, seconds
    "frontal",  # how square the shoulders look to the camera, 0..1
)


def peak_speed(body: BodySeries, cand: Candidate) -> float:
    """Highest pseudo-3D wrist speed from start to full extension, in shoulder widths per second."""
    reach = body.arms[cand.hand].reach
    lo, hi = max(cand.start - 1, 0), min(cand.peak + 1, len(reach) - 1)
    if hi <= lo:
        return 0.0
    speed = np.linalg.norm(np.diff(reach[lo : hi + 1], axis=0), axis=1) * body.fps
    speed = speed[np.isfinite(speed)]
    return float(speed.max() * body.torso_px / body.shoulder_width_px) if speed.size else 0.0


def candidate_features(body: BodySeries, cand: Candidate) -> FloatArray:
    arm = body.arms[cand.hand]
    p, s = cand.peak, cand.start
    other = body.arms["right" if cand.hand == "left" else "left"]
    across = _unit(other.shoulder[p] - arm.shoulder[p])
    travel = arm.wrist[p] - arm.wrist[s]
    fore = arm.wrist[p] - arm.elbow[p]
    fore_len = max(arm.length * 0.47, 1e-6)
    values = (
        cand.activity[p],
        arm.extension[p],
        arm.extension[p] - arm.extension[s],
        arm.elbow_cos[p],
        -travel[1],
        float(np.linalg.norm(travel)),
        arm.reach[p, 2] - arm.reach[s, 2],
        abs(fore[1]) / fore_len,
        arm.elbow[p, 1] - arm.shoulder[p, 1],
        arm.wrist[p, 1] - arm.shoulder[p, 1],
        float(travel @ across),
        peak_speed(body, cand),
        (cand.end - cand.start) / body.fps,
        (cand.peak - cand.start) / body.fps,
        _frontal(body, p),
    )
    return np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)


def _unit(v: FloatArray) -> FloatArray:
    n = float(np.linalg.norm(v))
    return v / n if np.isfinite(n) and n > 1e-9 else np.zeros(2)


def _frontal(body: BodySeries, frame: int) -> float:
    d = body.points[frame, K["left_shoulder"]] - body.points[frame, K["right_shoulder"]]
    return float(np.clip(np.linalg.norm(d) / body.shoulder_width_px, 0.0, 1.0))
