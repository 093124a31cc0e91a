"""keypoints.json -> punches.json: the public entry point of punch analysis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.punches.candidate_features import candidate_features, peak_speed
from shadow_trainer.punches.detection import Candidate, find_candidates
from shadow_trainer.punches.features import BodySeries, body_series
from shadow_trainer.punches.keypoints_io import validate_keypoints
from shadow_trainer.punches.learned import learned_probabilities
from shadow_trainer.punches.rules import LABELS, rule_probabilities
from shadow_trainer.punches.stance import DEFAULT_STANCE, detect_stance
from shadow_trainer.punches.tracks import assign_tracks, choose_main_track, track_points

Scorer = Callable[[NDArray[np.float64]], NDArray[np.float64]]


def classify_keypoints(doc: dict[str, Any], *, track_id: int | None = None) -> dict[str, Any]:
    """The punches.json document for the main boxer (or ``track_id``) of a keypoints document."""
    return classify_with(doc, track_id=track_id, scorer=default_scorer())


def default_scorer() -> Scorer:
    # The learned classifier beats the hand-written rules on held-out clips (see README.md).
    return learned_probabilities


def scorer_by_name(name: str) -> Scorer:
    """``rules`` (kinematic), ``learned`` or ``default``."""
    if name == "default":
        return default_scorer()
    if name == "rules":
        return rule_probabilities
    if name == "learned":
        return learned_probabilities
    raise ValueError(f"unknown classifier {name!r}: expected default, rules or learned")


def classify_with(doc: dict[str, Any], *, track_id: int | None, scorer: Scorer) -> dict[str, Any]:
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
    punches = [_punch(body, c, stance, chosen, scorer) for c in find_candidates(body)]
    kept = [p for p in punches if p is not None]
    return {"stance": stance, "fps": fps, "punches": kept}


def _punch(
    body: BodySeries, cand: Candidate, stance: str, track_id: int, scorer: Scorer
) -> dict[str, Any] | None:
    probs = scorer(candidate_features(body, cand))
    label = LABELS[int(np.argmax(probs))]
    if label == "none":
        return None
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
        "confidence": round(float(probs.max()), 3),
        "peak_speed": round(peak_speed(body, cand), 3),
    }
