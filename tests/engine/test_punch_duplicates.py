"""The detector's duplicate rules: a second sighting of one movement counts once, real combinations
of one arm stay two punches."""

from __future__ import annotations

import numpy as np
import pytest

from boxing_sim import ClipConditions, simulate_clip
from shadow_trainer.punches.candidate_model import KINDS
from shadow_trainer.punches.detection import Candidate
from shadow_trainer.punches.detector import ScoredCandidate, accept
from shadow_trainer.punches.features import BodySeries
from shadow_trainer.punches.fighters import track_body
from shadow_trainer.tracking.series import from_keypoints


@pytest.fixture(scope="module")
def body() -> BodySeries:
    clip = simulate_clip(5, ClipConditions(fps=50.0, duration=4.0, view="front"))
    series = from_keypoints(clip.keypoints)
    found = track_body(series.tracks[1], series)
    assert found is not None
    return found


def _scored(body: BodySeries, hand: str, t: float, kind: str, punch: float) -> ScoredCandidate:
    frame = round(t * body.fps)
    activity = np.zeros(len(body.scale))
    candidate = Candidate(hand, frame, frame - 5, frame + 5, activity)
    return ScoredCandidate(candidate, punch, np.eye(len(KINDS))[KINDS.index(kind)])


def _kept(body: BodySeries, *scored: ScoredCandidate) -> list[tuple[str, float]]:
    return [(s.kind, round(s.candidate.peak / body.fps, 2)) for s in accept(body, list(scored), 0.5)]


def test_a_hook_that_peaks_twice_is_one_punch(body: BodySeries) -> None:
    # mid-arc and at the end of the swing, 0.26 s apart: the likelier one stays
    kept = _kept(body, _scored(body, "left", 1.0, "hook", 0.7), _scored(body, "left", 1.26, "hook", 0.9))
    assert kept == [("hook", 1.26)]
    kept = _kept(
        body, _scored(body, "right", 2.0, "uppercut", 0.9), _scored(body, "right", 2.24, "hook", 0.6)
    )
    assert kept == [("uppercut", 2.0)]


def test_one_arm_combinations_and_slower_double_hooks_stay_two_punches(body: BodySeries) -> None:
    # a jab and a lead hook right after it: two punches of one arm
    kept = _kept(body, _scored(body, "left", 1.0, "straight", 0.9), _scored(body, "left", 1.26, "hook", 0.8))
    assert kept == [("straight", 1.0), ("hook", 1.26)]
    # a double hook needs its wind-up again: 0.46 s apart is two
    kept = _kept(body, _scored(body, "left", 1.0, "hook", 0.9), _scored(body, "left", 1.46, "hook", 0.8))
    assert kept == [("hook", 1.0), ("hook", 1.46)]
    # a double jab 0.24 s apart is two as well (the straight rule's window is shorter)
    kept = _kept(
        body, _scored(body, "left", 2.0, "straight", 0.9), _scored(body, "left", 2.24, "straight", 0.8)
    )
    assert kept == [("straight", 2.0), ("straight", 2.24)]
