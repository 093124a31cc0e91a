"""keypoints.json -> punches.json: the public entry point of punch analysis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.punches.candidate_features import candidate_features, peak_speed
from shadow_trainer.punches.detection import Candidate, activity_signal, find_candidates
from shadow_trainer.punches.features import BodySeries, body_series
from shadow_trainer.punches.keypoints_io import validate_keypoints
from shadow_trainer.punches.learned import learned_probabilities
from shadow_trainer.punches.rules import LABELS, rule_probabilities
from shadow_trainer.punches.stance import DEFAULT_STANCE, detect_stance
from shadow_trainer.punches.temporal import CLASSES, Apex, find_apexes
from shadow_trainer.punches.tracks import assign_tracks, choose_main_track, track_points

Scorer = Callable[[NDArray[np.float64]], NDArray[np.float64]]
# Seconds around full extension searched for the start (rest before) and end (back at rest).
START_WINDOW_S = 0.5
END_WINDOW_S = 0.6
METHODS = ("temporal", "learned", "rules")
# The temporal model beats the candidate classifiers on held-out clips (see README.md).
DEFAULT_METHOD = "temporal"


def classify_keypoints(doc: dict[str, Any], *, track_id: int | None = None) -> dict[str, Any]:
    """The punches.json document for the main boxer (or ``track_id``) of a keypoints document."""
    return classify_by(doc, track_id=track_id, method=DEFAULT_METHOD)


def classify_by(doc: dict[str, Any], *, track_id: int | None, method: str) -> dict[str, Any]:
    """``temporal`` (per-frame CNN), ``learned`` (candidates + MLP), ``rules`` (candidates + rules)
    or ``default``."""
    if method == "default":
        method = DEFAULT_METHOD
    if method == "temporal":
        return _classify(doc, track_id, _temporal_punches)
    if method in ("learned", "rules"):
        return classify_with(doc, track_id=track_id, scorer=scorer_by_name(method))
    raise ValueError(f"unknown method {method!r}: expected default, {', '.join(METHODS)}")


def default_scorer() -> Scorer:
    # Of the two candidate classifiers the learned one beats the hand-written rules.
    return learned_probabilities


def scorer_by_name(name: str) -> Scorer:
    """Candidate scorers: ``rules`` (kinematic), ``learned`` or ``default`` (learned)."""
    if name == "default":
        return default_scorer()
    if name == "rules":
        return rule_probabilities
    if name == "learned":
        return learned_probabilities
    raise ValueError(f"unknown classifier {name!r}: expected default, rules or learned")


def classify_with(doc: dict[str, Any], *, track_id: int | None, scorer: Scorer) -> dict[str, Any]:
    """Candidate detection + a candidate scorer (the pre-temporal method)."""

    def punches(body: BodySeries, stance: str, chosen: int) -> list[dict[str, Any] | None]:
        return [_punch(body, c, stance, chosen, scorer) for c in find_candidates(body)]

    return _classify(doc, track_id, punches)


PunchFinder = Callable[[BodySeries, str, int], "list[dict[str, Any] | None]"]


def _classify(doc: dict[str, Any], track_id: int | None, finder: PunchFinder) -> dict[str, Any]:
    validate_keypoints(doc)
    fps = float(doc["fps"])
    empty = {"stance": DEFAULT_STANCE, "fps": fps, "punches": []}
    tracked = assign_tracks(doc)
    chosen = choose_main_track(doc, tracked) if track_id is None else track_id
    if chosen is None:
        return empty
    body = body_series(track_points(doc, tracked, chosen), fps)
    if body is None:
        return empty
    stance = detect_stance(body)
    kept = [p for p in finder(body, stance, chosen) if p is not None]
    return {"stance": stance, "fps": fps, "punches": kept}


def _temporal_punches(body: BodySeries, stance: str, track_id: int) -> list[dict[str, Any] | None]:
    acts = {hand: activity_signal(arm, body.fps) for hand, arm in body.arms.items()}
    return [_apex_punch(body, a, acts[a.hand], stance, track_id) for a in find_apexes(body, acts)]


def _apex_punch(
    body: BodySeries, apex: Apex, act: NDArray[np.float64], stance: str, track_id: int
) -> dict[str, Any]:
    frames = len(act)
    peak = int(np.clip(round(apex.t * body.fps), 0, frames - 1))
    lo = max(peak - round(START_WINDOW_S * body.fps), 0)
    hi = min(peak + round(END_WINDOW_S * body.fps), frames - 1)
    start = lo + int(np.argmin(act[lo : peak + 1]))
    after = act[peak : hi + 1]
    level = 0.2 * act[peak] + 0.8 * float(after.min())
    below = np.flatnonzero(after <= level)
    end = peak + (int(below[0]) if below.size else int(np.argmin(after)))
    cand = Candidate(apex.hand, peak, start, end, act)
    label = CLASSES[int(np.argmax(apex.class_probs))]
    return _describe(body, cand, label, float(apex.score), stance, track_id)


def _punch(
    body: BodySeries, cand: Candidate, stance: str, track_id: int, scorer: Scorer
) -> dict[str, Any] | None:
    probs = scorer(candidate_features(body, cand))
    label = LABELS[int(np.argmax(probs))]
    if label == "none":
        return None
    return _describe(body, cand, label, float(probs.max()), stance, track_id)


def _describe(
    body: BodySeries, cand: Candidate, label: str, confidence: float, stance: str, track_id: int
) -> dict[str, Any]:
    lead_hand = "left" if stance == "orthodox" else "right"
    side = "lead" if cand.hand == lead_hand else "rear"
    kind = label if label != "straight" else ("jab" if side == "lead" else "cross")
    fps = body.fps
    return {
        "t": round(cand.peak / fps, 4),
        "frame": cand.peak,
        "t_start": round(cand.start / fps, 4),
        "t_end": round(cand.end / fps, 4),
        "track_id": track_id if track_id >= 0 else None,
        "hand": cand.hand,
        "side": side,
        "type": kind,
        "confidence": round(confidence, 3),
        "peak_speed": round(peak_speed(body, cand), 3),
    }
