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
    def __init__(self, params: dict[str, Any]) -> None:
        if tuple(params["features"]) != FEATURE_NAMES or tuple(params["kinds"]) != KINDS:
            raise RuntimeError("candidate model weights were trained for other features; retrain them")
        self.mean = np.asarray(params["mean"], dtype=float)
        self.std = np.asarray(params["std"], dtype=float)
        self.threshold = float(params["threshold"])
        self.layers = [
            (np.asarray(params[f"w{i}"], dtype=float), np.asarray(params[f"b{i}"], dtype=float))
            for i in range(sum(1 for k in params if k.startswith("w")))
        ]

    def __call__(self, x: FloatArray) -> CandidateScores:
        h = (np.asarray(x, dtype=float).reshape(-1, self.mean.size) - self.mean) / self.std
        for i, (w, b) in enumerate(self.layers):
            h = h @ w.T + b
            if i < len(self.layers) - 1:
                h = np.tanh(h)
        kind = np.exp(h[:, 1:] - h[:, 1:].max(axis=1, keepdims=True))
        return CandidateScores(1.0 / (1.0 + np.exp(-h[:, 0])), kind / kind.sum(axis=1, keepdims=True))


@lru_cache(maxsize=1)
def load_candidate_model(path: Path = WEIGHTS_PATH) -> CandidateModel:
    return CandidateModel(json.loads(path.read_text(encoding="utf-8")))
