"""Finding punch candidates: moments when an arm shoots out of its guard and comes back.

Each arm gets an activity signal (rise of the extension ratio over the arm's resting level plus the
wrist's displacement from its guard spot). Every local maximum of that signal is a candidate whose
peak is the moment of full extension; the classifier then decides punch type or "not a punch".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import median_filter, percentile_filter
from scipy.signal import find_peaks

from shadow_trainer.punches.features import ArmSeries, BodySeries

FloatArray = NDArray[np.float64]

# The guard spot is the arm's median pose over this window: punches are short, so it ignores them.
GUARD_WINDOW_S = 2.0
# Two extensions of the same arm closer than this are one punch (a double jab needs ~0.3 s).
MIN_SEPARATION_S = 0.15
# Candidates below this activity are not even considered (keeps idle hands cheap).
MIN_ACTIVITY = 0.08
MIN_PROMINENCE = 0.06
REST_PERCENTILE = 20


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
    # The resting level is a low percentile, not the median: in non-stop punching the arm is out
    # half of the time.
    rest = percentile_filter(ext, REST_PERCENTILE, size=window, mode="nearest")
    rise = np.clip(ext - rest, 0.0, None)
    # A hook barely moves the fist away from the guard but lifts the elbow to shoulder height.
    wrist = _away_from_guard(arm.wrist - arm.shoulder, window)
    elbow = _away_from_guard(arm.elbow - arm.shoulder, window)
    return rise + 0.5 * wrist + 0.7 * elbow


def _away_from_guard(points: FloatArray, window: int) -> FloatArray:
    filled = np.column_stack([_fill(points[:, 0]), _fill(points[:, 1])])
    rest = median_filter(filled, size=(window, 1), mode="nearest")
    return np.asarray(np.linalg.norm(filled - rest, axis=1))


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
        # Zero padding lets a punch still extending when the clip starts or ends be a peak.
        padded = np.r_[0.0, act, 0.0]
        peaks, props = find_peaks(padded, height=MIN_ACTIVITY, prominence=MIN_PROMINENCE, distance=distance)
        speed = wrist_speed(arm, body.fps)
        taken: list[int] = []
        last = len(act) - 1
        for p, left, right in zip(peaks - 1, props["left_bases"] - 1, props["right_bases"] - 1, strict=True):
            start, end = _bounds(act, int(p), int(np.clip(left, 0, last)), int(np.clip(right, 0, last)))
            apex = _impact(speed, int(p), start, end)
            if any(abs(apex - q) < distance for q in taken):
                continue  # two activity peaks of one movement
            taken.append(apex)
            out.append(Candidate(hand, apex, start, end, act))
    out.sort(key=lambda c: c.peak)
    return out


def wrist_speed(arm: ArmSeries, fps: float) -> FloatArray:
    """Pseudo-3D wrist speed relative to the shoulder, torso lengths per second."""
    reach = np.nan_to_num(arm.reach)
    return np.r_[0.0, np.linalg.norm(np.diff(reach, axis=0), axis=1) * fps]


def _impact(speed: FloatArray, peak: int, start: int, end: int) -> int:
    """Full extension is where the hand stops after its outward burst (a hook's or an uppercut's
    largest displacement from the guard comes earlier, mid-swing)."""
    if end - start < 3:
        return peak
    window = speed[start : end + 1]
    first_burst = start + int(np.argmax(window[: max(peak - start, 1) + 1]))
    slow = 0.5 * float(window.max())
    for i in range(first_burst + 1, end):
        if speed[i] <= speed[i - 1] and speed[i] <= speed[i + 1] and speed[i] < slow:
            return i
    return peak


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
