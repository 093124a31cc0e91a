"""Orthodox or southpaw from the whole clip (main track only).

Cues, each strongest in the views where the others are weak:
- facing: seen from the side or at 3/4, the lead foot/knee/shoulder is on the side the nose points to
  (nose relative to the neck and to the ears);
- depth: seen from the front, the lead foot is nearer the camera, so it sits lower in the image.
Each cue is a clip average of "left part minus right part", so every cue changes sign when the
stance does. A logistic regression without bias (``punch_stance.json``, fitted by
``bench/train_punch_stance.py`` on training seeds) weighs them. Positive means orthodox.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.documents.punches_document import StanceSwitch
from shadow_trainer.pose.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.punches.features import BodySeries

DEFAULT_STANCE = "orthodox"
UNKNOWN = "unknown"
# The regression's probability of its stance must reach this for the stance to be reported.
MIN_STANCE_CONFIDENCE = 0.6
WEIGHTS_PATH = Path(__file__).with_name("punch_stance.json")
# Stance switches: the stance of 10 s windows every 5 s; only windows this sure count.
SWITCH_WINDOW_S = 10.0
SWITCH_HOP_S = 5.0
SWITCH_CONFIDENCE = 0.75
FEATURE_NAMES: tuple[str, ...] = (
    "ankle_ahead",
    "ankle_ahead_ears",
    "knee_ahead",
    "hip_ahead",
    "shoulder_ahead",
    "wrist_ahead",
    "ankle_lower_frontal",
    "ankle_lower",
    "knee_lower_frontal",
    "knee_lower",
    "hip_lower_frontal",
)


def stance_features(body: BodySeries, frames: slice = slice(None)) -> NDArray[np.float64]:
    pts = body.points[frames] / body.torso_px
    neck = (pts[:, K["left_shoulder"]] + pts[:, K["right_shoulder"]]) / 2
    ears = (pts[:, K["left_ear"]] + pts[:, K["right_ear"]]) / 2
    facing = pts[:, K["nose"], 0] - neck[:, 0]
    facing_ears = pts[:, K["nose"], 0] - ears[:, 0]
    shoulders = pts[:, K["left_shoulder"], 0] - pts[:, K["right_shoulder"], 0]
    frontal = np.clip(np.abs(shoulders) * body.torso_px / body.shoulder_width_px, 0.0, 1.0)

    def diff(part: str, axis: int) -> NDArray[np.float64]:
        return np.asarray(pts[:, K[f"left_{part}"], axis] - pts[:, K[f"right_{part}"], axis])

    values = (
        _nanmean(facing * diff("ankle", 0)),
        _nanmean(facing_ears * diff("ankle", 0)),
        _nanmean(facing * diff("knee", 0)),
        _nanmean(facing * diff("hip", 0)),
        _nanmean(facing * diff("shoulder", 0)),
        _nanmean(facing * diff("wrist", 0)),
        _nanmean(diff("ankle", 1) * frontal**2),
        _nanmean(diff("ankle", 1)),
        _nanmean(diff("knee", 1) * frontal**2),
        _nanmean(diff("knee", 1)),
        _nanmean(diff("hip", 1) * frontal**2),
    )
    return np.asarray(values, dtype=float)


@lru_cache(maxsize=1)
def _weights(path: Path = WEIGHTS_PATH) -> NDArray[np.float64]:
    params = json.loads(path.read_text(encoding="utf-8"))
    if tuple(params["features"]) != FEATURE_NAMES:
        raise RuntimeError(f"{path} was fitted for other features; refit it")
    return np.asarray(params["weights"], dtype=float)


def stance_score(body: BodySeries, frames: slice = slice(None)) -> float:
    """Positive means orthodox (left side leads), negative southpaw; the size is the evidence."""
    return float(stance_features(body, frames) @ _weights())


@dataclass(frozen=True)
class Stance:
    label: str  # "orthodox", "southpaw" or "unknown" (too little evidence)
    confidence: float  # probability of the likelier stance, 0.5..1
    leans: str  # the likelier stance even when ``label`` is "unknown"


def estimate_stance(body: BodySeries | None, frames: slice = slice(None)) -> Stance:
    """The stance (of the whole clip, or of ``frames``) and how sure it is; below
    ``MIN_STANCE_CONFIDENCE`` the label is "unknown"."""
    if body is None:
        return Stance(UNKNOWN, 0.5, DEFAULT_STANCE)
    score = stance_score(body, frames)
    confidence = float(1.0 / (1.0 + np.exp(-abs(score))))
    leans = "southpaw" if score < 0 else "orthodox"
    return Stance(leans if confidence >= MIN_STANCE_CONFIDENCE else UNKNOWN, round(confidence, 3), leans)


def stance_switches(body: BodySeries) -> list[StanceSwitch]:
    """Times the fighter changed stance: the stance of SWITCH_WINDOW_S windows every SWITCH_HOP_S,
    and a switch where a confident window (SWITCH_CONFIDENCE) differs from the confident one before and
    the next confident one agrees (a stance held ≥ 15 s, not one window's flicker). Its time is midway
    between the two windows' centres."""
    window, hop = round(SWITCH_WINDOW_S * body.fps), max(round(SWITCH_HOP_S * body.fps), 1)
    confident = []
    for start in range(0, max(len(body.points) - window, 0) + 1, hop):
        stance = estimate_stance(body, slice(start, start + window))
        if stance.confidence >= SWITCH_CONFIDENCE:
            confident.append(((start + window / 2) / body.fps, stance.leans))
    switches = []
    for (t0, before), (t1, after), (_, then) in zip(confident, confident[1:], confident[2:], strict=False):
        if after != before and then == after:
            switches.append(StanceSwitch({"t": round((t0 + t1) / 2, 2), "from": before, "to": after}))
    return switches


def detect_stance(body: BodySeries | None) -> str:
    """The likelier stance, whatever the evidence (for lead/rear when nothing better is known)."""
    return estimate_stance(body).leans


def _nanmean(values: NDArray[np.float64]) -> float:
    good = values[np.isfinite(values)]
    return float(good.mean()) if good.size else 0.0
