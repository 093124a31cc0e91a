"""Pose looking only around the people it found: where it looks, how often it looks at everything,
and that the keypoints are the ones a look at the whole picture gives."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from shadow_trainer.media.video import probe_video
from shadow_trainer.pipeline.pose_pass import run_pose_pass
from shadow_trainer.pipeline.progress import Progress
from shadow_trainer.pipeline.regions import MARGIN, RegionPlanner
from shadow_trainer.pose import Letterbox, PoseDetections, PoseEstimator
from tests.support.agreement import agreement


def people(*boxes: list[float], score: float = 0.9) -> PoseDetections:
    keypoints = np.zeros((len(boxes), 17, 3), np.float32)
    return PoseDetections(np.array(boxes, np.float32), np.full(len(boxes), score, np.float32), keypoints)


def test_a_crop_is_a_view_of_the_same_input_that_maps_back_to_the_same_pixels() -> None:
    box = Letterbox.fit(1920, 1080)
    crop = box.cropped(160, 64, 416, 384)
    assert (crop.input_width, crop.input_height, crop.scale) == (256, 320, box.scale)
    in_full = np.array([[300.0, 200.0]])
    in_crop = in_full - [160, 64]
    np.testing.assert_allclose(crop.to_source(in_crop.copy()), box.to_source(in_full.copy()))


def test_after_a_whole_look_the_next_views_are_the_crop_around_the_people() -> None:
    box = Letterbox.fit(1920, 1080)
    planner = RegionPlanner(box, inferred_fps=30)
    assert planner.view() is box  # nothing found yet
    boxer = [800.0, 200.0, 1100.0, 1000.0]
    planner.seen(box, people(boxer))
    crop = planner.view()
    assert crop is not box and crop.input_width % 32 == 0 and crop.input_height % 32 == 0
    corners = crop.to_source(np.array([[0.0, 0.0], [crop.input_width, crop.input_height]]))
    margin = MARGIN * (boxer[3] - boxer[1])
    assert corners[0, 0] <= boxer[0] - margin and corners[1, 0] >= boxer[2] + margin
    assert crop.input_width * crop.input_height < 0.45 * box.input_width * box.input_height
    for _ in range(planner.full_every - 1):
        planner.seen(crop, people(boxer))
        assert planner.view() is not box
    planner.seen(crop, people(boxer))
    assert planner.view() is box  # once a second, the whole picture: whoever walks in is found


def test_someone_missing_from_the_crop_or_everyone_spread_out_means_the_whole_picture() -> None:
    box = Letterbox.fit(1280, 720)
    planner = RegionPlanner(box, inferred_fps=30)
    planner.seen(box, people([100, 100, 300, 700], [900, 100, 1100, 700]))
    assert planner.view() is box  # two fighters far acrop: the crop would be most of the picture
    planner.seen(box, people([500, 100, 700, 700], [650, 100, 850, 700]))
    crop = planner.view()
    assert crop is not box
    planner.seen(crop, people([500, 100, 700, 700]))  # one of the two is gone from the crop
    assert planner.view() is box
    planner.seen(box, people([500, 100, 700, 700], score=0.1))  # only a faint detection: no crop
    assert planner.view() is box


def test_disabled_it_always_looks_at_the_whole_picture() -> None:
    box = Letterbox.fit(640, 480)
    planner = RegionPlanner(box, inferred_fps=30, enabled=False)
    planner.seen(box, people([300, 100, 400, 400]))
    assert planner.view() is box and planner.crops == 0


@pytest.mark.parametrize("clip_name", ["boxing", "walkers"])
def test_looking_around_the_people_finds_the_keypoints_the_whole_picture_gives(
    clip_name: str, boxing_clip: Path, people_clip: Path, tmp_path: Path, onnx_estimator: PoseEstimator
) -> None:
    """Real footage, both ways: most frames are looked at in a crop, and everyone the whole picture
    finds is found with the same keypoints (mean OKS ≥ 0.95)."""
    clip = boxing_clip if clip_name == "boxing" else people_clip
    info = probe_video(clip)
    progress = Progress(None, None)
    progress.stage("analyzing")
    frames, crops = {}, {}
    for looked in (False, True):
        out = tmp_path / f"{looked}.json"
        result = run_pose_pass(
            clip, info, onnx_estimator, keypoints_path=out, pose_log_path=tmp_path / f"{looked}.log",
            progress=progress, crops=looked,
        )  # fmt: skip
        frames[looked], crops[looked] = json.loads(out.read_text())["frames"], result.crop_frames
    assert crops[False] == 0
    if clip_name == "boxing":
        assert crops[True] >= 0.8 * len(frames[True])  # one boxer in a wide picture: mostly crops
    assert agreement(frames[False], frames[True])[1] >= 0.95
