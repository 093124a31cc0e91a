"""The learned candidate classifier: a small MLP over candidate features, run with numpy.

Trained offline by ``bench/train_punch_classifier.py`` on simulated clips (training seeds only);
its weights ship as ``punch_mlp.json`` so inference needs no torch.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.punches.candidate_features import FEATURE_NAMES
from shadow_trainer.punches.rules import LABELS

WEIGHTS_PATH = Path(__file__).with_name("punch_mlp.json")
FloatArray = NDArray[np.float64]


class MLP:
    def __init__(self, params: dict[str, list[float] | list[list[float]]]) -> None:
        self.mean = np.asarray(params["mean"], dtype=float)
        self.std = np.asarray(params["std"], dtype=float)
        self.layers = [
            (np.asarray(params[f"w{i}"], dtype=float), np.asarray(params[f"b{i}"], dtype=float))
            for i in range(sum(1 for k in params if k.startswith("w")))
        ]

    def __call__(self, x: FloatArray) -> FloatArray:
        h = (np.asarray(x, dtype=float) - self.mean) / self.std
        for i, (w, b) in enumerate(self.layers):
            h = h @ w.T + b
            if i < len(self.layers) - 1:
                h = np.tanh(h)
        e = np.exp(h - h.max(axis=-1, keepdims=True))
        return np.asarray(e / e.sum(axis=-1, keepdims=True))


@lru_cache(maxsize=1)
def load_model(path: Path = WEIGHTS_PATH) -> MLP:
    params = json.loads(path.read_text(encoding="utf-8"))
    if tuple(params["features"]) != FEATURE_NAMES or tuple(params["labels"]) != LABELS:
        raise RuntimeError(f"{path} was trained for other features/labels; retrain it")
    return MLP(params)


def learned_probabilities(x: FloatArray) -> FloatArray:
    return load_model()(x)
