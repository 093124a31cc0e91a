"""Who in the video boxes, and which of them is the main fighter.

Every track seen long enough is analysed: its punches (``detector``), its stance, how much of the
time it holds a guard (both wrists up between the chin and the chest) and how prominent it is
(size × closeness to the centre, summed over frames). A track boxes when it punches with a guard,
or punches often enough that the guard does not matter (bare-hand drills); people walking,
talking or holding pads do not. The main fighter, whose stance is the clip's, is the most
prominent of those who box: the person a coach filming would want analysed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shadow_trainer.documents.punches_document import StanceSwitch
from shadow_trainer.pose.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.punches.candidate_model import CandidateModel
from shadow_trainer.punches.detector import ScoredCandidate, detect_punches
from shadow_trainer.punches.features import BodySeries, body_series
from shadow_trainer.punches.stance import Stance, estimate_stance, stance_switches
from shadow_trainer.tracking.prominence import most_prominent, prominence
from shadow_trainer.tracking.series import Track, TrackSeries

# Keypoints below this confidence are treated as missing (pose models emit junk there).
MIN_CONFIDENCE = 0.3
# Tracks seen for less than this are not analysed (a passer-by, a detector glitch).
MIN_TRACK_S = 0.5
# Boxing evidence: punches with a guard held at least this share of the time, or this many punches.
MIN_GUARD_SHARE = 0.2
MIN_PUNCHES_WITHOUT_GUARD = 3
# One punch alone makes a boxer only when the model is this sure of it: someone walking with their
# hands up (a bag, a phone) makes one unsure punch-like movement now and then.
MIN_SINGLE_PUNCH_CONFIDENCE = 0.7
# A wrist is "up" between this far above the nose and this far below the shoulders (torso lengths).
GUARD_ABOVE_NOSE = 0.5
GUARD_BELOW_SHOULDERS = 0.45
# Boxing time (work, as opposed to rest): guard up or punching, pauses shorter than ACTIVE_GAP_S
# bridged; a stretch shorter than MIN_ACTIVE_S without a punch is dropped (both hands raised for a
# moment while resting: a drink, a towel).
ACTIVE_GAP_S = 2.0
MIN_ACTIVE_S = 3.0


@dataclass(frozen=True)
class FighterAnalysis:
    track_id: int
    body: BodySeries
    punches: list[ScoredCandidate]
    stance: Stance
    stance_switches: list[StanceSwitch]
    seen: float  # share of the video's frames with this person detected
    guard_share: float  # share of those frames with both hands up
    prominence: float
    active: list[tuple[float, float]]  # boxing time: (start, end) in seconds

    @property
    def boxes(self) -> bool:
        if len(self.punches) >= MIN_PUNCHES_WITHOUT_GUARD:
            return True
        if not self.punches or self.guard_share < MIN_GUARD_SHARE:
            return False
        return len(self.punches) > 1 or self.punches[0].punch >= MIN_SINGLE_PUNCH_CONFIDENCE


def track_body(track: Track, series: TrackSeries) -> BodySeries | None:
    """The kinematics of a track seen long enough, or None."""
    if track.frames_seen < MIN_TRACK_S * series.fps:
        return None
    points = track.points(series.frame_count)
    xy = np.where((points[..., 2] >= MIN_CONFIDENCE)[..., None], points[..., :2], np.nan)
    return body_series(xy, series.fps)


def analyse_track(track: Track, series: TrackSeries, model: CandidateModel) -> FighterAnalysis | None:
    body = track_body(track, series)
    if body is None:
        return None
    punches = detect_punches(body, model)
    up, seen = guard_up(body), shoulders_seen(body)
    return FighterAnalysis(
        track_id=track.track_id,
        body=body,
        punches=punches,
        stance=estimate_stance(body),
        stance_switches=stance_switches(body),
        seen=track.frames_seen / max(series.frame_count, 1),
        guard_share=float(up[seen].mean()) if seen.any() else 0.0,
        prominence=prominence(track, series.width, series.height),
        active=active_periods(up, punches, body.fps),
    )


def shoulders_seen(body: BodySeries) -> np.ndarray:
    pts = body.points
    return np.isfinite(pts[:, K["left_shoulder"], 0]) & np.isfinite(pts[:, K["right_shoulder"], 0])


def guard_up(body: BodySeries) -> np.ndarray:
    """Per frame: the person is seen with both wrists up in front of the upper body (a frame without
    the shoulders or a wrist compares with NaN, so it is never up)."""
    pts = body.points
    shoulders_y = (pts[:, K["left_shoulder"], 1] + pts[:, K["right_shoulder"], 1]) / 2
    nose_y = np.where(np.isfinite(pts[:, K["nose"], 1]), pts[:, K["nose"], 1], shoulders_y - 0.3 * body.scale)
    up = np.ones(len(pts), dtype=bool)
    for side in ("left", "right"):
        wy = pts[:, K[f"{side}_wrist"], 1]
        with np.errstate(invalid="ignore"):
            up &= (wy >= nose_y - GUARD_ABOVE_NOSE * body.scale) & (
                wy <= shoulders_y + GUARD_BELOW_SHOULDERS * body.scale
            )
    return up


def active_periods(up: np.ndarray, punches: list[ScoredCandidate], fps: float) -> list[tuple[float, float]]:
    """Boxing time, (start, end) in seconds: frames with the guard up or inside a punch, pauses under
    ACTIVE_GAP_S bridged, stretches under MIN_ACTIVE_S without a punch left out."""
    punched = np.zeros_like(up)
    for p in punches:
        punched[p.candidate.start : p.candidate.end + 1] = True
    active = up | punched
    periods: list[tuple[int, int]] = []
    for start, end in _runs(active):
        if periods and start - periods[-1][1] < ACTIVE_GAP_S * fps:
            periods[-1] = (periods[-1][0], end)
        else:
            periods.append((start, end))
    return [
        (round(start / fps, 2), round(end / fps, 2))
        for start, end in periods
        if end - start >= MIN_ACTIVE_S * fps or punched[start:end].any()
    ]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, one past the last) frame of each run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def other_hand_dropped(body: BodySeries, hand: str, start: int, end: int) -> bool | None:
    """Whether the hand that did not punch left the guard downwards (below the shoulder line by more
    than GUARD_BELOW_SHOULDERS) at some frame from ``start`` to ``end``; None when it was not seen."""
    other = "right" if hand == "left" else "left"
    frames = slice(max(start, 0), end + 1)
    pts = body.points[frames]
    wrist_y = pts[:, K[f"{other}_wrist"], 1]
    shoulders_y = (pts[:, K["left_shoulder"], 1] + pts[:, K["right_shoulder"], 1]) / 2
    low = wrist_y - shoulders_y - GUARD_BELOW_SHOULDERS * body.scale[frames]
    seen = np.isfinite(low)
    return bool((low[seen] > 0).any()) if seen.any() else None


def main_fighter(fighters: list[FighterAnalysis]) -> FighterAnalysis | None:
    """The most prominent of those who box (`tracking.prominence`)."""
    main = most_prominent({f.track_id: f.prominence for f in fighters})
    return next((f for f in fighters if f.track_id == main), None)
