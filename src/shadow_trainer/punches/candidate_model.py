"""The candidate classifier: a small MLP over candidate features, run with numpy.

It answers two things per candidate: how likely it is a punch (a sigmoid output) and, if it is one,
which kind (straight / hook / uppercut, a softmax). Trained offline by
``bench/train_punch_candidates.py`` on widely randomised simulated clips, real pose tracks of people
not boxing, and the real labelled clips; the weights ship as ``punch_candidates.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.punches.candidate_features import FEATURE_NAMES

WEIGHTS_PATH = Path(__file__).with_name("punch_candidates.json")
KINDS: tuple[str, ...] = ("straight", "hook", "uppercut")
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class CandidateScores:
    punch: FloatArray  # (n,) probability that each candidate is a punch
    kind: FloatArray  # (n, len(KINDS)) probabilities of each kind


class CandidateModel:
    """An average of a few small MLPs (trained from different seeds: steadier than one)."""

    def __init__(self, params: dict[str, Any]) -> None:
        if tuple(params["features"]) != FEATURE_NAMES or tuple(params["kinds"]) != KINDS:
            raise RuntimeError("candidate model weights were trained for other features; retrain them")
        self.params = params
        self.mean = np.asarray(params["mean"], dtype=float)
        self.std = np.asarray(params["std"], dtype=float)
        self.threshold = float(params["threshold"])
        self.members = [
            [
                (np.asarray(m[f"w{i}"], dtype=float), np.asarray(m[f"b{i}"], dtype=float))
                for i in range(sum(1 for k in m if k.startswith("w")))
            ]
            for m in params["members"]
        ]

    def with_threshold(self, threshold: float) -> CandidateModel:
        return CandidateModel({**self.params, "threshold": threshold})

    def __call__(self, x: FloatArray) -> CandidateScores:
        z = (np.asarray(x, dtype=float).reshape(-1, self.mean.size) - self.mean) / self.std
        punch, kind = np.zeros(len(z)), np.zeros((len(z), len(KINDS)))
        for layers in self.members:
            h = z
            for i, (w, b) in enumerate(layers):
                h = h @ w.T + b
                if i < len(layers) - 1:
                    h = np.tanh(h)
            punch += 1.0 / (1.0 + np.exp(-h[:, 0]))
            e = np.exp(h[:, 1:] - h[:, 1:].max(axis=1, keepdims=True))
            kind += e / e.sum(axis=1, keepdims=True)
        n = len(self.members)
        return CandidateScores(punch / n, kind / n)


@lru_cache(maxsize=1)
def load_candidate_model(path: Path = WEIGHTS_PATH) -> CandidateModel:
    return CandidateModel(json.loads(path.read_text(encoding="utf-8")))
