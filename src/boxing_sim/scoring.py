"""Comparing detected punches with ground truth: one-to-one matching within a time tolerance."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

MATCH_TOLERANCE_S = 0.15


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    type_correct: int = 0
    hand_correct: int = 0
    side_correct: int = 0
    stance_clips: int = 0
    stance_correct: int = 0
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, other: Score) -> None:
        for name in (
            "true_positives",
            "false_positives",
            "false_negatives",
            "type_correct",
            "hand_correct",
            "side_correct",
            "stance_clips",
            "stance_correct",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, n in other.confusion.items():
            self.confusion[key] = self.confusion.get(key, 0) + n

    @property
    def precision(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_positives)

    @property
    def recall(self) -> float:
        return _ratio(self.true_positives, self.true_positives + self.false_negatives)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r > 0 else 0.0

    @property
    def type_accuracy(self) -> float:
        return _ratio(self.type_correct, self.true_positives)

    @property
    def hand_accuracy(self) -> float:
        return _ratio(self.hand_correct, self.true_positives)

    @property
    def side_accuracy(self) -> float:
        return _ratio(self.side_correct, self.true_positives)

    @property
    def stance_accuracy(self) -> float:
        return _ratio(self.stance_correct, self.stance_clips)


def _ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


def match(
    truth: Sequence[Mapping[str, Any]],
    detected: Sequence[Mapping[str, Any]],
    tolerance: float = MATCH_TOLERANCE_S,
) -> list[tuple[int, int]]:
    """Pairs (truth index, detection index), one-to-one, maximising matches then closeness."""
    if not truth or not detected:
        return []
    dt = np.abs(np.array([t["t"] for t in truth])[:, None] - np.array([d["t"] for d in detected])[None, :])
    cost = np.where(dt <= tolerance, dt, 1e6)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if dt[r, c] <= tolerance]


def match_fighters(
    truth: Sequence[Mapping[str, Any]], detected: Sequence[Mapping[str, Any]]
) -> list[tuple[int, int]]:
    """``match`` within each fighter (``track_id``) when both sides carry track ids, else over all."""
    if not all("track_id" in p for p in truth) or not all(p.get("track_id") is not None for p in detected):
        return match(truth, detected)
    pairs: list[tuple[int, int]] = []
    for track in {p["track_id"] for p in truth}:
        ti = [i for i, p in enumerate(truth) if p["track_id"] == track]
        di = [i for i, p in enumerate(detected) if p["track_id"] == track]
        pairs += [(ti[a], di[b]) for a, b in match([truth[i] for i in ti], [detected[i] for i in di])]
    return pairs


def score_clip(labels: Mapping[str, Any], result: Mapping[str, Any], min_stance_s: float = 5.0) -> Score:
    truth, detected = labels["punches"], result["punches"]
    pairs = match_fighters(truth, detected)
    score = Score(len(pairs), len(detected) - len(pairs), len(truth) - len(pairs))
    for ti, di in pairs:
        t, d = truth[ti], detected[di]
        score.type_correct += t["type"] == d["type"]
        score.hand_correct += t["hand"] == d["hand"]
        score.side_correct += t["side"] == d["side"]
        key = (t["type"], d["type"])
        score.confusion[key] = score.confusion.get(key, 0) + 1
    if labels["duration"] >= min_stance_s:
        score.stance_clips = 1
        score.stance_correct = int(labels["stance"] == result["stance"])
    return score
