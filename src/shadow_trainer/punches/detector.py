"""One fighter's punches: kinematic candidates, scored by the candidate model, duplicates removed."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.punches.candidate_features import candidate_features
from shadow_trainer.punches.candidate_model import (
    KINDS,
    CandidateModel,
    CandidateScores,
    load_candidate_model,
)
from shadow_trainer.punches.detection import Candidate, find_candidates
from shadow_trainer.punches.features import BodySeries

FloatArray = NDArray[np.float64]
# Two accepted punches of different arms this close in time whose wrists are this close (torso
# lengths) are one arm seen twice: pose models put both wrists on the punching fist in side views.
SAME_FIST_S = 0.15
SAME_FIST_DISTANCE = 0.35
# Nobody lands both fists within this of each other: the weaker is the other arm moving along.
BOTH_ARMS_S = 0.1
# One arm does not punch twice this fast (real labelled repeats of one hand are >= 0.4 s apart, the
# simulators' >= 0.27 s): the weaker is a second peak of the same movement (its way back, a hold).
# Not longer: in side views the pose model often gives both fists of a fast one-two (0.24 s apart
# in the KTH clips) to the same arm.
SAME_ARM_S = 0.18
# Two hooks or uppercuts of one arm are one movement within this: each needs its wind-up and its way
# back (real labelled repeats of one hand with a hook or uppercut are >= 0.4 s apart), while a
# swinging arm often peaks twice, once mid-arc and once at the end.
CURVED_SAME_ARM_S = 0.3
# No rule above joins two sightings further apart than this: only accepted punches this close to a
# candidate need a look (a long session has thousands).
ONE_MOVEMENT_S = max(SAME_FIST_S, SAME_ARM_S, CURVED_SAME_ARM_S)


@dataclass(frozen=True)
class ScoredCandidate:
    candidate: Candidate
    punch: float  # probability of a punch
    kind_probs: FloatArray  # over KINDS

    @cached_property
    def kind(self) -> str:  # read for every pair the duplicate rules compare
        return KINDS[int(np.argmax(self.kind_probs))]


def score_candidates(body: BodySeries, model: CandidateModel | None = None) -> list[ScoredCandidate]:
    """Every candidate of both arms with its scores, in time order."""
    model = model or load_candidate_model()
    cands = find_candidates(body)
    if not cands:
        return []
    scores: CandidateScores = model(np.stack([candidate_features(body, c) for c in cands]))
    return [ScoredCandidate(c, float(scores.punch[i]), scores.kind[i]) for i, c in enumerate(cands)]


def accept(body: BodySeries, scored: list[ScoredCandidate], threshold: float) -> list[ScoredCandidate]:
    """Candidates at or above ``threshold``, without the second sighting of one movement (the same
    arm again at once, a swinging arm's second peak, the other arm moving along, one fist given to
    both arms); of two sightings the likelier stays."""
    kept = sorted((s for s in scored if s.punch >= threshold), key=lambda s: -s.punch)
    reach = ONE_MOVEMENT_S * body.fps
    peaks: list[int] = []  # of ``out``, which stays in time order
    out: list[ScoredCandidate] = []
    for s in kept:
        peak = s.candidate.peak
        near = out[bisect_left(peaks, peak - reach) : bisect_right(peaks, peak + reach)]
        if not any(_one_movement(body, s, o) for o in near):
            at = bisect_right(peaks, peak)
            peaks.insert(at, peak)
            out.insert(at, s)
    return out


def detect_punches(body: BodySeries, model: CandidateModel | None = None) -> list[ScoredCandidate]:
    model = model or load_candidate_model()
    return accept(body, score_candidates(body, model), model.threshold)


def _one_movement(body: BodySeries, a: ScoredCandidate, b: ScoredCandidate) -> bool:
    ca, cb = a.candidate, b.candidate
    if ca.hand == cb.hand:
        curved = a.kind != "straight" and b.kind != "straight"
        return abs(ca.peak - cb.peak) <= (CURVED_SAME_ARM_S if curved else SAME_ARM_S) * body.fps
    return _same_fist(body, ca, cb)


def _same_fist(body: BodySeries, a: Candidate, b: Candidate) -> bool:
    """Two arms' peaks: the other arm moving along, or one fist given to both arms."""
    if abs(a.peak - b.peak) > SAME_FIST_S * body.fps:
        return False
    if abs(a.peak - b.peak) <= BOTH_ARMS_S * body.fps:
        return True
    wa = body.arms[a.hand].wrist[a.peak]
    wb = body.arms[b.hand].wrist[b.peak]
    distance = float(np.linalg.norm(wa - wb))
    return bool(np.isfinite(distance) and distance < SAME_FIST_DISTANCE)
