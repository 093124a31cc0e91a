"""Finding punch candidates: moments when an arm shoots out of its guard and comes back.

Each arm gets an activity signal (rise of the extension ratio over the arm's resting level plus the
wrist's displacement from its guard spot). Every local maximum of that signal is a candidate whose
peak is the moment of full extension; the classifier then decides punch type or "not a punch".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import median_filter
from scipy.signal import find_peaks

from shadow_trainer.punches.features import ArmSeries, BodySeries

FloatArray = NDArray[np.float64]

# The guard spot is the arm's median pose over this window: punches are short, so it ignores them.
GUARD_WINDOW_S = 2.0
# Two extensions of the same arm closer than this are one punch (a double jab needs ~0.3 s).
MIN_SEPARATION_S = 0.18
# Candidates below this activity are not even considered (keeps idle hands cheap).
MIN_ACTIVITY = 0.15
MIN_PROMINENCE = 0.12


@dataclass(frozen=True)
class Candidate:
    hand: str  # keypoint label of the arm: "left" / "right"
    peak: int  # frame of full extension
    start: int
    end: int
    activity: FloatArray  # the arm's whole activity signal (shared, not copied)


def activity_signal(arm: ArmSeries, fps: float) -> FloatArray:
    window = max(round(GUARD_WINDOW_S * fps) | 1, 3)
    ext = _fill(arm.extension)
    wrist = np.stack(
        [_fill(arm.wrist[:, 0] - arm.shoulder[:, 0]), _fill(arm.wrist[:, 1] - arm.shoulder[:, 1])], 1
    )
    rest_ext = median_filter(ext, size=window, mode="nearest")
    rest_wrist = median_filter(wrist, size=(window, 1), mode="nearest")
    rise = np.clip(ext - rest_ext, 0.0, None)
    displacement = np.linalg.norm(wrist - rest_wrist, axis=1)
    return rise + 0.5 * displacement


def _fill(values: FloatArray) -> FloatArray:
    # Long gaps (person lost) read as "at rest" so they cannot create peaks.
    good = np.isfinite(values)
    if not good.any():
        return np.zeros_like(values)
    return np.where(good, values, np.nanmedian(values))


def find_candidates(body: BodySeries) -> list[Candidate]:
    out: list[Candidate] = []
    distance = max(round(MIN_SEPARATION_S * body.fps), 1)
    for hand, arm in body.arms.items():
        act = activity_signal(arm, body.fps)
        peaks, props = find_peaks(act, height=MIN_ACTIVITY, prominence=MIN_PROMINENCE, distance=distance)
        for p, left, right in zip(peaks, props["left_bases"], props["right_bases"], strict=True):
            start, end = _bounds(act, int(p), int(left), int(right))
            out.append(Candidate(hand, int(p), start, end, act))
    out.sort(key=lambda c: c.peak)
    return out


def _bounds(act: FloatArray, peak: int, left: int, right: int) -> tuple[int, int]:
    """Start/end: where the activity falls below a fifth of the peak, within the peak's bases."""
    level = act[peak] * 0.2 + min(act[left], act[right]) * 0.8
    start = peak
    while start > left and act[start - 1] > level:
        start -= 1
    end = peak
    while end < right and act[end + 1] > level:
        end += 1
    return start, end
