"""How close two runs' keypoints are: COCO's object keypoint similarity (OKS), person by person."""

from __future__ import annotations

from typing import Any

import numpy as np

# COCO's per-keypoint OKS constants (nose … ankles).
SIGMAS = np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07, 0.87, 0.87,
                   0.89, 0.89]) / 10  # fmt: skip


def oks(reference: dict[str, Any], candidate: dict[str, Any]) -> float:
    """Object keypoint similarity of `candidate` to `reference` over the reference's visible keypoints."""
    ref, cand = np.array(reference["keypoints"]), np.array(candidate["keypoints"])
    x1, y1, x2, y2 = reference["bbox"]
    area = max((x2 - x1) * (y2 - y1), 1.0)
    visible = ref[:, 2] > 0.3
    if not visible.any():
        return float("nan")
    d2 = ((ref[:, :2] - cand[:, :2]) ** 2).sum(axis=1)
    return float(np.exp(-d2 / (2 * area * (2 * SIGMAS) ** 2))[visible].mean())


def agreement(reference: list[dict[str, Any]], fast: list[dict[str, Any]]) -> tuple[float, float]:
    """Mean OKS (interpolated frames, all frames) of keypoints.json frames: each reference person
    against the best match in the same frame of the other run."""
    interpolated, every = [], []
    for ref_frame, fast_frame in zip(reference, fast, strict=True):
        for person in ref_frame["people"]:
            best = max((oks(person, other) for other in fast_frame["people"]), default=0.0)
            if np.isnan(best):
                continue
            every.append(best)
            if fast_frame.get("interpolated"):
                interpolated.append(best)
    return float(np.mean(interpolated)) if interpolated else float("nan"), float(np.mean(every))
