"""The pose pass: ordered parallel inference, and the batched torch path (what GPU workers run)."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from shadow_trainer.media.video import probe_video
from shadow_trainer.pipeline.pose_pass import interpolate_people, run_pose_pass
from shadow_trainer.pipeline.progress import Progress
from shadow_trainer.pose import PoseDetections, PoseEstimator
from shadow_trainer.pose.rate import pose_stride
from shadow_trainer.pose.runtimes import TorchPose


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
    batches = ((images[i : i + 2], [box, box], i) for i in range(0, 40, 2))
    seen = list(estimator.stream(batches))
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
            crops=False,  # the same whole pictures to both runtimes (the batched one never looks in part)
        )
    assert results["onnx"].frames == results["torch"].frames == 30  # 30 = 7 full batches + a partial one
    assert results["onnx"].people_tracked == results["torch"].people_tracked
    for a, b in zip(_people(tmp_path / "onnx.json"), _people(tmp_path / "torch.json"), strict=True):
        assert [p["track_id"] for p in a] == [p["track_id"] for p in b]
        for pa, pb in zip(a, b, strict=True):
            np.testing.assert_allclose(
                np.array(pa["keypoints"])[:, :2], np.array(pb["keypoints"])[:, :2], atol=1.5
            )


@pytest.mark.parametrize(
    ("fps", "max_fps", "stride"),
    [
        (60, 30, 2),
        (59.94, 30, 2),
        (50, 30, 1),
        (30, 30, 1),
        (25, 30, 1),
        (120, 30, 4),
        (60, None, 1),
        (60, 0, 1),
    ],
)
def test_pose_runs_about_30_times_a_second(fps: float, max_fps: float | None, stride: int) -> None:
    assert pose_stride(fps, max_fps) == stride


def _detections(boxes: list[list[float]], confidence: float) -> PoseDetections:
    keypoints = np.zeros((len(boxes), 17, 3), np.float32)
    keypoints[..., 0] = np.array(boxes)[:, :1]
    keypoints[..., 2] = confidence
    return PoseDetections(np.array(boxes, np.float32), np.full(len(boxes), confidence, np.float32), keypoints)


def test_people_in_both_frames_are_interpolated_the_others_left_out() -> None:
    before = ([1, 2], _detections([[0, 0, 10, 10], [100, 0, 110, 10]], 0.9))
    after = ([2, 3], _detections([[120, 0, 130, 10], [300, 0, 310, 10]], 0.5))
    ids, people = interpolate_people(before, after, 0.25)
    assert ids == [2]
    np.testing.assert_allclose(people.boxes, [[105, 0, 115, 10]])
    np.testing.assert_allclose(people.keypoints[0, :, 0], 105)
    assert float(people.scores[0]) == pytest.approx(0.5) and float(
        people.keypoints[0, 0, 2]
    ) == pytest.approx(0.5)


def test_skipped_frames_get_interpolated_keypoints_close_to_real_ones(
    clips: Path, vtest_path: Path, tmp_path: Path, onnx_estimator: PoseEstimator
) -> None:
    """A 20 fps clip with pose on every second frame against pose on every frame: the inferred frames
    are the same; the others are flagged and near what pose would have found there."""
    from tests.support.clips import video_frames, write_clip

    clip = write_clip(clips / "people-20fps.mp4", video_frames(vtest_path, 24, start=545), fps=20)
    info = probe_video(clip)
    progress = Progress(None, None)
    progress.stage("analyzing")
    runs = {}
    for stride in (1, 2):
        keypoints, log = tmp_path / f"{stride}.json", tmp_path / f"{stride}.log"
        runs[stride] = run_pose_pass(
            clip,
            info,
            onnx_estimator,
            keypoints_path=keypoints,
            pose_log_path=log,
            progress=progress,
            stride=stride,
            crops=False,  # the same whole pictures on the frames both runs infer
        )
    assert runs[1].frames == runs[2].frames == 24 and (runs[1].pose_frames, runs[2].pose_frames) == (24, 12)
    every = json.loads((tmp_path / "1.json").read_text())["frames"]
    skipping = json.loads((tmp_path / "2.json").read_text())["frames"]
    assert [f.get("interpolated", False) for f in skipping] == [i % 2 == 1 for i in range(24)]
    errors = []
    for real, guessed in zip(every, skipping, strict=True):
        if not guessed.get("interpolated"):
            assert len(real["people"]) == len(guessed["people"])
            continue
        for person in guessed["people"]:  # the real person nearest to each interpolated one
            centre = np.mean(np.array(person["bbox"]).reshape(2, 2), axis=0)
            nearest = min(
                real["people"],
                key=lambda p: np.linalg.norm(np.mean(np.array(p["bbox"]).reshape(2, 2), axis=0) - centre),
            )
            seen = np.array(nearest["keypoints"])[:, 2] > 0.5
            errors.append(
                np.abs(
                    np.array(person["keypoints"])[seen, :2] - np.array(nearest["keypoints"])[seen, :2]
                ).mean()
            )
    assert errors and float(np.median(errors)) < 2.5, errors  # pixels in a 768×576 frame (measured: 1.3)
