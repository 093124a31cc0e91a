"""Per-frame feature sequences for the temporal punch model, one sequence per arm.

Every channel is in torso units (or torso units per second), resampled to a fixed rate
(``MODEL_FPS``) so that one model serves 24-60 fps video. A sequence describes "this arm" and
"the other arm" of the boxer, so the same model scores the left and the right arm.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import median_filter

from shadow_trainer.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.punches.detection import activity_signal
from shadow_trainer.punches.features import ArmSeries, BodySeries

FloatArray = NDArray[np.float64]

MODEL_FPS = 30.0
GUARD_WINDOW_S = 2.0

# Channel names; ``X_CHANNELS`` are image-x quantities, negated together to mirror a sequence.
CHANNELS: tuple[str, ...] = (
    "ext",
    "elbow_cos",
    "upper_depth",
    "fore_depth",
    "reach_x",
    "reach_y",
    "reach_z",
    "elbow_x",
    "elbow_y",
    "activity",
    "guard_dx",
    "guard_dy",
    "elbow_guard_dx",
    "elbow_guard_dy",
    "wrist_valid",
    "frontal",
    "shoulder_dx",
    "shoulder_dy",
    "facing",
    "lean_x",
    "lean_y",
    "other_ext",
    "other_elbow_cos",
    "other_reach_y",
    "other_reach_z",
    "other_activity",
    "other_guard_dx",
    "other_guard_dy",
    # derivatives (per second), computed on the resampled grid
    "d_ext",
    "d_reach_x",
    "d_reach_y",
    "d_reach_z",
    "d_elbow_x",
    "d_elbow_y",
    "speed3d",
    "d_other_ext",
    "other_speed3d",
    "d_neck_x",
    "d_neck_y",
)
_INDEX = {name: i for i, name in enumerate(CHANNELS)}
X_CHANNELS: tuple[int, ...] = tuple(
    _INDEX[n]
    for n in (
        "reach_x",
        "elbow_x",
        "guard_dx",
        "elbow_guard_dx",
        "shoulder_dx",
        "facing",
        "lean_x",
        "other_guard_dx",
        "d_reach_x",
        "d_elbow_x",
        "d_neck_x",
    )
)
_DERIVED = {
    "d_ext": "ext",
    "d_reach_x": "reach_x",
    "d_reach_y": "reach_y",
    "d_reach_z": "reach_z",
    "d_elbow_x": "elbow_x",
    "d_elbow_y": "elbow_y",
    "d_other_ext": "other_ext",
}


def arm_sequences(
    body: BodySeries, activity: dict[str, FloatArray] | None = None
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Model-rate times (n,) and, per arm label, the feature sequence (n, len(CHANNELS))."""
    frames = body.points.shape[0]
    times = np.arange(frames) / body.fps
    grid = np.arange(0.0, times[-1] + 1e-9, 1.0 / MODEL_FPS) if frames > 1 else np.zeros(1)
    window = max(round(GUARD_WINDOW_S * body.fps) | 1, 3)
    acts = activity or {h: activity_signal(a, body.fps) for h, a in body.arms.items()}
    common = _common(body)
    channels = {h: _arm_channels(a, acts[h], window) for h, a in body.arms.items()}
    out: dict[str, FloatArray] = {}
    for hand, arm in body.arms.items():
        other_hand = "right" if hand == "left" else "left"
        other = body.arms[other_hand]
        raw = {**common, **channels[hand]}
        for name, values in channels[other_hand].items():
            raw[f"other_{name}"] = values
        shoulder = arm.shoulder - other.shoulder
        raw["shoulder_dx"], raw["shoulder_dy"] = shoulder[:, 0], shoulder[:, 1]
        seq = np.zeros((grid.size, len(CHANNELS)))
        for name, i in _INDEX.items():
            if name in raw:
                seq[:, i] = np.interp(grid, times, _filled(raw[name]))
        for name, source in _DERIVED.items():
            seq[:, _INDEX[name]] = _derivative(seq[:, _INDEX[source]])
        seq[:, _INDEX["speed3d"]] = _speed(seq, ("d_reach_x", "d_reach_y", "d_reach_z"))
        neck_x = np.interp(grid, times, _filled(common["neck_x"]))
        neck_y = np.interp(grid, times, _filled(common["neck_y"]))
        seq[:, _INDEX["d_neck_x"]] = _derivative(neck_x)
        seq[:, _INDEX["d_neck_y"]] = _derivative(neck_y)
        other_reach = np.column_stack([np.interp(grid, times, _filled(other.reach[:, k])) for k in range(3)])
        seq[:, _INDEX["other_speed3d"]] = np.linalg.norm(np.gradient(other_reach, axis=0), axis=1) * MODEL_FPS
        out[hand] = seq
    return grid, out


def _arm_channels(arm: ArmSeries, act: FloatArray, window: int) -> dict[str, FloatArray]:
    wrist_rel = arm.wrist - arm.shoulder
    elbow_rel = arm.elbow - arm.shoulder
    guard = _away(wrist_rel, window)
    elbow_guard = _away(elbow_rel, window)
    return {
        "ext": arm.extension,
        "elbow_cos": arm.elbow_cos,
        "upper_depth": arm.upper_depth,
        "fore_depth": arm.fore_depth,
        "reach_x": arm.reach[:, 0],
        "reach_y": arm.reach[:, 1],
        "reach_z": arm.reach[:, 2],
        "elbow_x": elbow_rel[:, 0],
        "elbow_y": elbow_rel[:, 1],
        "activity": act,
        "guard_dx": guard[:, 0],
        "guard_dy": guard[:, 1],
        "elbow_guard_dx": elbow_guard[:, 0],
        "elbow_guard_dy": elbow_guard[:, 1],
        "wrist_valid": np.isfinite(arm.wrist[:, 0]).astype(float),
    }


def _common(body: BodySeries) -> dict[str, FloatArray]:
    pts = body.points / body.torso_px
    neck = (pts[:, K["left_shoulder"]] + pts[:, K["right_shoulder"]]) / 2
    hips = (pts[:, K["left_hip"]] + pts[:, K["right_hip"]]) / 2
    shoulders = pts[:, K["left_shoulder"]] - pts[:, K["right_shoulder"]]
    frontal = np.linalg.norm(shoulders, axis=1) * body.torso_px / body.shoulder_width_px
    lean = neck - hips
    return {
        "frontal": np.clip(frontal, 0.0, 1.0),
        "facing": pts[:, K["nose"], 0] - neck[:, 0],
        "lean_x": lean[:, 0],
        "lean_y": lean[:, 1],
        "neck_x": neck[:, 0],
        "neck_y": neck[:, 1],
    }


def _away(points: FloatArray, window: int) -> FloatArray:
    filled = np.column_stack([_filled(points[:, 0]), _filled(points[:, 1])])
    return np.asarray(filled - median_filter(filled, size=(window, 1), mode="nearest"))


def _filled(values: FloatArray) -> FloatArray:
    good = np.isfinite(values)
    if not good.any():
        return np.zeros(len(values))
    if good.all():
        return np.asarray(values, dtype=float)
    idx = np.arange(len(values))
    return np.interp(idx, idx[good], values[good])


def _derivative(values: FloatArray) -> FloatArray:
    if values.size < 2:
        return np.zeros_like(values)
    return np.gradient(values) * MODEL_FPS


def _speed(seq: FloatArray, names: tuple[str, ...]) -> FloatArray:
    return np.asarray(np.linalg.norm(seq[:, [_INDEX[n] for n in names]], axis=1))
