"""Per-frame arm kinematics from 2D keypoints that hold up across camera angles.

A punch toward the camera barely moves the wrist in the image, so 2D distances alone miss it. Each
arm segment's length is known from the frames where it lies in the image plane, so its foreshortening
gives the out-of-plane part (|dz|, the Taylor construction). From that we get an extension ratio and
an elbow angle that read nearly the same from the front, at 3/4 and from the side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d, percentile_filter

from shadow_trainer.pose.keypoint_names import KEYPOINT_INDEX as K

FloatArray = NDArray[np.float64]

# Body proportions relative to the torso (shoulder centre to hip centre), used as lower bounds for
# segment lengths when a segment is never seen side-on in a clip.
UPPER_ARM_PER_TORSO = 0.52
FOREARM_PER_TORSO = 0.47
SHOULDER_WIDTH_PER_TORSO = 0.72
# Gaps of missing keypoints up to this long are bridged by interpolation.
MAX_GAP_S = 0.3
# Light smoothing against detector jitter; punches last >= 0.1 s, so this keeps their shape.
SMOOTH_SIGMA_S = 0.022
# The body scale follows zooms and steps toward the camera: a high percentile of the per-frame
# estimates over this window (foreshortening only ever shortens a segment).
SCALE_WINDOW_S = 3.0
SCALE_PERCENTILE = 80


@dataclass(frozen=True)
class ArmSeries:
    """One arm's per-frame features; lengths are in torso units, positions relative to the neck."""

    wrist: FloatArray  # (T, 2) wrist relative to shoulder centre
    elbow: FloatArray  # (T, 2)
    shoulder: FloatArray  # (T, 2) this arm's shoulder relative to shoulder centre
    extension: FloatArray  # (T,) pseudo-3D shoulder-wrist distance / arm length, 0..1
    elbow_cos: FloatArray  # (T,) cosine of the pseudo-3D elbow angle (-1 = straight arm)
    upper_depth: FloatArray  # (T,) out-of-plane fraction of the upper arm, 0..1
    fore_depth: FloatArray  # (T,) out-of-plane fraction of the forearm, 0..1
    reach: FloatArray  # (T, 3) pseudo-3D wrist minus shoulder: image x, image y, depth (torso units)
    length: float  # upper arm + forearm (torso units)


@dataclass(frozen=True)
class BodySeries:
    fps: float
    torso_px: float  # median torso length in pixels
    shoulder_width_px: float
    points: FloatArray  # (T, 17, 2) cleaned pixel positions, NaN where unknown
    arms: dict[str, ArmSeries]  # "left" / "right" as labelled in the keypoints
    scale: FloatArray  # (T,) torso length in pixels in each frame: the unit of every ArmSeries length


def clean_points(points: FloatArray, fps: float) -> FloatArray:
    """Bridge short gaps and smooth each coordinate; long gaps stay NaN."""
    out = np.array(points, dtype=float)
    max_gap = max(round(MAX_GAP_S * fps), 1)
    sigma = max(SMOOTH_SIGMA_S * fps, 0.5)
    flat = out.reshape(out.shape[0], -1)
    for c in range(flat.shape[1]):
        flat[:, c] = _smooth(_bridge(flat[:, c], max_gap), sigma)
    return out


def _bridge(values: FloatArray, max_gap: int) -> FloatArray:
    good = np.isfinite(values)
    if good.sum() < 2:
        return values
    idx = np.arange(len(values))
    filled = np.interp(idx, idx[good], values[good])
    # Distance of each frame to the nearest known sample decides whether the gap is short enough.
    last = np.maximum.accumulate(np.where(good, idx, -(10**9)))
    nxt = np.minimum.accumulate(np.where(good, idx, 10**9)[::-1])[::-1]
    bridged = (nxt - last) <= max_gap + 1
    return np.where(good | bridged, filled, np.nan)


def _smooth(values: FloatArray, sigma: float) -> FloatArray:
    good = np.isfinite(values)
    if not good.any():
        return values
    weights = gaussian_filter1d(good.astype(float), sigma, mode="nearest")
    summed = gaussian_filter1d(np.where(good, values, 0.0), sigma, mode="nearest")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(good, summed / weights, np.nan)


def body_series(points: FloatArray, fps: float) -> BodySeries | None:
    """Features for the cleaned track, or None when the shoulders are never visible."""
    pts = clean_points(points, fps)
    neck = (pts[:, K["left_shoulder"]] + pts[:, K["right_shoulder"]]) / 2
    scale = body_scale(pts, fps)
    if scale is None:
        return None
    torso_px = float(np.median(scale))
    shoulder_px = _percentile_length(pts[:, K["left_shoulder"]] - pts[:, K["right_shoulder"]], 90)
    shoulder_px = max(shoulder_px if np.isfinite(shoulder_px) else 0.0, SHOULDER_WIDTH_PER_TORSO * torso_px)
    arms = {side: _arm(pts, neck, scale, side) for side in ("left", "right")}
    return BodySeries(fps, torso_px, shoulder_px, pts, arms, scale)


def body_scale(pts: FloatArray, fps: float) -> FloatArray | None:
    """Per-frame torso length in pixels from the torso and the shoulder line, or None if never seen."""
    neck = (pts[:, K["left_shoulder"]] + pts[:, K["right_shoulder"]]) / 2
    hips = (pts[:, K["left_hip"]] + pts[:, K["right_hip"]]) / 2
    torso = np.linalg.norm(neck - hips, axis=1)
    shoulders = np.linalg.norm(pts[:, K["left_shoulder"]] - pts[:, K["right_shoulder"]], axis=1)
    estimate = np.fmax(torso, shoulders / SHOULDER_WIDTH_PER_TORSO)
    good = np.isfinite(estimate) & (estimate > 0)
    if not good.any():
        return None
    idx = np.arange(len(estimate))
    filled = np.interp(idx, idx[good], estimate[good])
    window = max(round(SCALE_WINDOW_S * fps), 1)
    rolling = percentile_filter(filled, SCALE_PERCENTILE, size=window, mode="nearest")
    return np.asarray(gaussian_filter1d(rolling, max(window / 6, 1.0), mode="nearest"))


def _percentile_length(vectors: FloatArray, q: float) -> float:
    lengths = np.linalg.norm(vectors, axis=1)
    lengths = lengths[np.isfinite(lengths)]
    return float(np.percentile(lengths, q)) if lengths.size else float("nan")


def _arm(pts: FloatArray, neck: FloatArray, scale: FloatArray, side: str) -> ArmSeries:
    unit = scale[:, None]
    sh = (pts[:, K[f"{side}_shoulder"]] - neck) / unit
    el = (pts[:, K[f"{side}_elbow"]] - neck) / unit
    wr = (pts[:, K[f"{side}_wrist"]] - neck) / unit
    upper, fore = el - sh, wr - el
    len_u = _segment_length(upper, UPPER_ARM_PER_TORSO)
    len_f = _segment_length(fore, FOREARM_PER_TORSO)
    dz_u = _depth(upper, len_u)
    dz_f = _depth(fore, len_f)
    # Both segments of a punching arm point toward the target, so their depths add up.
    reach = np.hypot(np.linalg.norm(upper + fore, axis=1), dz_u + dz_f)
    extension = np.clip(reach / (len_u + len_f), 0.0, 1.0)
    dot = np.einsum("ij,ij->i", upper, fore) + dz_u * dz_f
    elbow_cos = np.clip(-dot / (len_u * len_f), -1.0, 1.0)
    reach3 = np.column_stack([upper + fore, dz_u + dz_f])
    return ArmSeries(wr, el, sh, extension, elbow_cos, dz_u / len_u, dz_f / len_f, reach3, len_u + len_f)


def _segment_length(vectors: FloatArray, prior: float) -> float:
    observed = _percentile_length(vectors, 95)
    return max(observed if np.isfinite(observed) else 0.0, prior)


def _depth(vectors: FloatArray, length: float) -> FloatArray:
    seen = np.linalg.norm(vectors, axis=1)
    return np.sqrt(np.clip(length**2 - seen**2, 0.0, None))
