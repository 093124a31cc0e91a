"""The pose pass: ordered parallel inference, and the batched torch path (what GPU workers run)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shadow_trainer.pose import PoseEstimator
from shadow_trainer.pose.runtimes import TorchPose
from shadow_trainer.pose_pass import run_pose_pass
from shadow_trainer.progress import Progress
from shadow_trainer.video import probe_video


class _SlowEchoRuntime:
    """Returns one fake candidate per image whose score encodes the image's value, after a random delay."""

    name, device, batch_size, streams = "fake", "cpu", 2, 3

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        time.sleep(random.uniform(0, 0.01))
        rows = []
        for image in batch:
            row = np.zeros((1, 56), np.float32)
            row[0, :4] = (50, 50, 20, 20)
            row[0, 4] = float(image[0, 0, 0]) / 255
            rows.append(row)
        return rows


def test_stream_returns_batches_in_order_with_their_tags() -> None:
    estimator = PoseEstimator("fake", _SlowEchoRuntime())
    box = estimator.letterbox(64, 64)
    images = [np.full((64, 64, 3), 100 + i, np.uint8) for i in range(40)]
    batches = ((images[i : i + 2], i) for i in range(0, 40, 2))
    seen = list(estimator.stream(batches, box))
    assert [tag for _, tag in seen] == list(range(0, 40, 2))
    scores = [float(p.scores[0]) for people, _ in seen for p in people]
    assert scores == pytest.approx([(100 + i) / 255 for i in range(40)], abs=1e-6)


def _people(path: Path) -> list[list[dict[str, Any]]]:
    return [frame["people"] for frame in json.loads(path.read_text())["frames"]]


def test_batched_torch_pass_matches_the_onnx_pass(
    people_clip: Path, tmp_path: Path, weights: Path, onnx_estimator: PoseEstimator
) -> None:
    info = probe_video(people_clip)
    progress = Progress(None, None)
    progress.stage("analyzing")
    torch_batched = PoseEstimator("yolo11n-pose", TorchPose(weights, "cpu", batch_size=4))
    results = {}
    for name, estimator in (("onnx", onnx_estimator), ("torch", torch_batched)):
        results[name] = run_pose_pass(
            people_clip,
            info,
            estimator,
            keypoints_path=tmp_path / f"{name}.json",
            pose_log_path=tmp_path / f"{name}.log",
            progress=progress,
        )
    assert results["onnx"].frames == results["torch"].frames == 30  # 30 = 7 full batches + a partial one
    assert results["onnx"].people_tracked == results["torch"].people_tracked
    for a, b in zip(_people(tmp_path / "onnx.json"), _people(tmp_path / "torch.json"), strict=True):
        assert [p["track_id"] for p in a] == [p["track_id"] for p in b]
        for pa, pb in zip(a, b, strict=True):
            np.testing.assert_allclose(
                np.array(pa["keypoints"])[:, :2], np.array(pb["keypoints"])[:, :2], atol=1.5
            )
