"""Train the learned punch-candidate classifier on simulated clips (training seeds only).

    uv run python bench/train_punch_classifier.py [--clips 400 --seed 1]

Writes src/shadow_trainer/punches/punch_mlp.json. The bench uses another seed (held out).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
import torch

from shadow_trainer.punches.candidate_features import FEATURE_NAMES, candidate_features
from shadow_trainer.punches.detection import find_candidates
from shadow_trainer.punches.features import body_series
from shadow_trainer.punches.learned import WEIGHTS_PATH
from shadow_trainer.punches.rules import LABELS
from shadow_trainer.punches.tracks import assign_tracks, choose_main_track, track_points
from shadow_trainer.simulation import clip_seed, match, simulate_clip

TRAIN_SEED = 1
CLASS_OF = {"jab": "straight", "cross": "straight", "hook": "hook", "uppercut": "uppercut"}


def clip_examples(clip: Any) -> tuple[list[np.ndarray], list[int]]:
    """Candidate features and labels: a candidate is a punch class when it matches a true punch of
    the same hand within the bench tolerance, else "none"."""
    doc = clip.keypoints
    tracked = assign_tracks(doc)
    track = choose_main_track(doc, tracked)
    body = None if track is None else body_series(track_points(doc, tracked, track), doc["fps"])
    if body is None:
        return [], []
    cands = find_candidates(body)
    labels = [0] * len(cands)
    for hand in ("left", "right"):
        truth = [p for p in clip.labels["punches"] if p["hand"] == hand]
        mine = [k for k, c in enumerate(cands) if c.hand == hand]
        for ti, ci in match(truth, [{"t": cands[k].peak / doc["fps"]} for k in mine]):
            labels[mine[ci]] = LABELS.index(CLASS_OF[truth[ti]["type"]])
    return [candidate_features(body, c) for c in cands], labels


def train(x: np.ndarray, y: np.ndarray, epochs: int, hidden: int) -> dict[str, Any]:
    torch.manual_seed(0)
    mean, std = x.mean(0), x.std(0) + 1e-6
    xt = torch.tensor((x - mean) / std, dtype=torch.float32)
    yt = torch.tensor(y)
    model = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], hidden), torch.nn.Tanh(),
        torch.nn.Linear(hidden, hidden), torch.nn.Tanh(),
        torch.nn.Linear(hidden, len(LABELS)),
    )  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=3e-3, weight_decay=1e-4)
    for _ in range(epochs):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
    print(f"final training loss {loss.item():.4f}")
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    params: dict[str, Any] = {"features": list(FEATURE_NAMES), "labels": list(LABELS)}
    params.update(mean=mean.tolist(), std=std.tolist())
    for i, layer in enumerate(linears):
        params[f"w{i}"] = layer.weight.detach().numpy().round(6).tolist()
        params[f"b{i}"] = layer.bias.detach().numpy().round(6).tolist()
    return params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--seed", type=int, default=TRAIN_SEED)
    parser.add_argument("--epochs", type=int, default=1500)
    parser.add_argument("--hidden", type=int, default=32)
    args = parser.parse_args()
    xs: list[np.ndarray] = []
    ys: list[int] = []
    for i in range(args.clips):
        x, y = clip_examples(simulate_clip(clip_seed(args.seed, i)))
        xs += x
        ys += y
    x_arr, y_arr = np.array(xs), np.array(ys)
    counts = np.bincount(y_arr, minlength=len(LABELS)).tolist()
    print(f"{len(y_arr)} candidates, per class {dict(zip(LABELS, counts, strict=True))}")
    WEIGHTS_PATH.write_text(json.dumps(train(x_arr, y_arr, args.epochs, args.hidden)), encoding="utf-8")
    print(f"wrote {WEIGHTS_PATH}")


if __name__ == "__main__":
    main()
