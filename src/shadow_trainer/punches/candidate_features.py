"""A fixed-length description of one punch candidate for the candidate classifier.

Lengths are in units of the arm's own length (or torso lengths where the arm is not the point),
times in seconds, so the numbers mean the same at any fps, resolution, zoom or position in the frame.
Image-x quantities are signed along the way the boxer faces, so a mirrored video, or a boxer
facing the other way, gives the same numbers.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.pose.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.punches.detection import Candidate
from shadow_trainer.punches.features import ArmSeries, BodySeries

FloatArray = NDArray[np.float64]
# How far before the candidate the resting hand position is read.
BEFORE_S = 0.6

FEATURE_NAMES: tuple[str, ...] = (
    "activity",  # peak of the detection signal
    "prominence",  # how far the signal stands above its surroundings
    "extension",  # pseudo-3D shoulder-wrist distance / arm length at the apex (1 = straight)
    "reach_2d",  # image-plane shoulder-wrist distance / arm length at the apex
    "reach_2d_rise",  # reach_2d at the apex minus its lowest in the 0.6 s before
    "elbow_cos",  # pseudo-3D elbow cosine at the apex (-1 = straight)
    "wrist_height",  # wrist under its shoulder at the apex, arm lengths
    "elbow_height",
    "wrist_rise",  # upward wrist travel start -> apex, arm lengths
    "wrist_forward",  # image-x travel start -> apex along the facing direction
    "wrist_across",  # travel toward the other shoulder along the shoulder line
    "forearm_vertical",  # |forearm dy| / forearm length at the apex
    "peak_speed",  # highest pseudo-3D wrist speed start -> apex, arm lengths per second
    "return_speed",  # highest speed apex -> end
    "rise_time",  # start -> apex, seconds
    "fall_time",  # apex -> end, seconds
    "body_speed",  # neck speed over the span, torso lengths per second
    "frontal",  # how square the shoulders look to the camera, 0..1
    "facing",  # |nose - neck| along x, torso lengths: how much the head is seen in profile
)


def peak_speed(body: BodySeries, cand: Candidate) -> float:
    """Highest pseudo-3D wrist speed from start to full extension, in shoulder widths per second."""
    speed = _speed(body.arms[cand.hand], body.fps, cand.start, cand.peak)
    return float(speed * body.torso_px / body.shoulder_width_px)


def _speed(arm: ArmSeries, fps: float, lo: int, hi: int) -> float:
    lo, hi = max(lo - 1, 0), min(hi + 1, len(arm.reach) - 1)
    if hi <= lo:
        return 0.0
    speed = np.linalg.norm(np.diff(arm.reach[lo : hi + 1], axis=0), axis=1) * fps
    speed = speed[np.isfinite(speed)]
    return float(speed.max()) if speed.size else 0.0


def candidate_features(body: BodySeries, cand: Candidate) -> FloatArray:
    arm = body.arms[cand.hand]
    other = body.arms["right" if cand.hand == "left" else "left"]
    p, s, e = cand.peak, cand.start, cand.end
    length, fps = arm.length, body.fps
    before = max(s - round(BEFORE_S * fps), 0)
    facing = _facing_sign(body, before, e)
    across = _unit(other.shoulder[p] - arm.shoulder[p])
    travel = arm.wrist[p] - arm.wrist[s]
    fore = arm.wrist[p] - arm.elbow[p]
    reach2d = np.linalg.norm(arm.wrist - arm.shoulder, axis=1) / length
    values = (
        cand.activity[p],
        cand.activity[p]
        - max(float(np.nanmin(cand.activity[s : p + 1])), float(np.nanmin(cand.activity[p : e + 1]))),
        arm.extension[p],
        reach2d[p],
        reach2d[p] - _low(reach2d, before, p),
        arm.elbow_cos[p],
        (arm.wrist[p, 1] - arm.shoulder[p, 1]) / length,
        (arm.elbow[p, 1] - arm.shoulder[p, 1]) / length,
        -travel[1] / length,
        facing * travel[0] / length,
        float(travel @ across) / length,
        abs(fore[1]) / max(length * 0.47, 1e-6),
        _speed(arm, fps, s, p) / length,
        _speed(arm, fps, p, e) / length,
        (p - s) / fps,
        (e - p) / fps,
        _body_speed(body, s, e),
        _frontal(body, p),
        abs(_facing(body, before, e)),
    )
    return np.nan_to_num(np.asarray(values, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)


def _low(values: FloatArray, lo: int, hi: int) -> float:
    """The lowest value in ``values[lo..hi]`` (the arm's resting level around a movement)."""
    window = values[lo : hi + 1]
    window = window[np.isfinite(window)]
    return float(window.min()) if window.size else 0.0


def _unit(v: FloatArray) -> FloatArray:
    n = float(np.linalg.norm(v))
    return v / n if np.isfinite(n) and n > 1e-9 else np.zeros(2)


def _frontal(body: BodySeries, frame: int) -> float:
    d = body.points[frame, K["left_shoulder"]] - body.points[frame, K["right_shoulder"]]
    return float(np.clip(np.linalg.norm(d) / body.shoulder_width_px, 0.0, 1.0))


def _facing(body: BodySeries, lo: int, hi: int) -> float:
    """Mean nose position relative to the neck along x, torso lengths (sign: the way the head points)."""
    pts = body.points[lo : hi + 1]
    neck = (pts[:, K["left_shoulder"], 0] + pts[:, K["right_shoulder"], 0]) / 2
    values = (pts[:, K["nose"], 0] - neck) / body.scale[lo : hi + 1]
    values = values[np.isfinite(values)]
    return float(values.mean()) if values.size else 0.0


def _facing_sign(body: BodySeries, lo: int, hi: int) -> float:
    return 1.0 if _facing(body, lo, hi) >= 0 else -1.0


def _body_speed(body: BodySeries, lo: int, hi: int) -> float:
    pts = body.points[lo : hi + 1]
    neck = (pts[:, K["left_shoulder"]] + pts[:, K["right_shoulder"]]) / 2 / body.scale[lo : hi + 1, None]
    if len(neck) < 2:
        return 0.0
    steps = np.linalg.norm(np.diff(neck, axis=0), axis=1)
    steps = steps[np.isfinite(steps)]
    return float(steps.mean() * body.fps) if steps.size else 0.0
