"""Fit the stance cue weights (logistic regression without bias) on simulated clips, every fighter.

    nice -n 10 uv run python bench/train_punch_stance.py [--seed 5 --clips 400 --val-seed 3 --variety wide]

Training seed 5, validation seed 3; never the bench seed (90210) nor the test seed (4242).
Writes src/shadow_trainer/punches/punch_stance.json.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.optimize import minimize

from boxing_sim import clip_seed, simulate_clip
from shadow_trainer.punches.fighters import track_body
from shadow_trainer.punches.stance import FEATURE_NAMES, WEIGHTS_PATH, stance_features
from shadow_trainer.tracking.series import from_keypoints


def clip_rows(seed: int, clips: int, variety: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xs, ys, durations = [], [], []
    for i in range(clips):
        clip = simulate_clip(clip_seed(seed, i), variety=variety)
        series = from_keypoints(clip.keypoints)
        for fighter in clip.labels["fighters"]:  # every simulated person boxes
            track = series.tracks.get(fighter["track_id"])
            body = None if track is None else track_body(track, series)
            if body is None:
                continue
            xs.append(stance_features(body))
            ys.append(1.0 if fighter["stance"] == "orthodox" else -1.0)
            durations.append(clip.labels["duration"])
    return np.array(xs), np.array(ys), np.array(durations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--val-seed", type=int, default=3)
    parser.add_argument("--val-clips", type=int, default=200)
    parser.add_argument("--variety", default="wide", help="simulator variety: wide or classic")
    args = parser.parse_args()
    x, y, _ = clip_rows(args.seed, args.clips, args.variety)
    scale = x.std(0) + 1e-9

    def loss(w: np.ndarray) -> float:
        z = y * ((x / scale) @ w)
        return float(np.mean(np.logaddexp(0.0, -z)) + 1e-2 * w @ w)

    weights = minimize(loss, np.zeros(x.shape[1])).x / scale
    for name, (xx, yy, dd) in (
        ("train", (x, y, None)),
        ("validation", clip_rows(args.val_seed, args.val_clips, args.variety)),
    ):
        margin = (xx @ weights) * yy
        long = margin if dd is None else margin[dd >= 5.0]
        print(
            f"{name}: {int((long <= 0).sum())} wrong of {long.size}; min margin / median "
            f"{long.min() / np.median(long):.3f}"
        )
    params = {"features": list(FEATURE_NAMES), "weights": weights.round(6).tolist()}
    WEIGHTS_PATH.write_text(json.dumps(params, indent=1), encoding="utf-8")
    print(f"wrote {WEIGHTS_PATH}")


if __name__ == "__main__":
    main()
