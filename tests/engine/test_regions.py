"""Pose looking only around the people it found: where it looks, how often it looks at everything,
and that the keypoints are the ones a look at the whole picture gives."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from shadow_trainer.media.video import probe_video
from shadow_trainer.pipeline.pose_pass import run_pose_pass
from shadow_trainer.pipeline.progress import Progress
from shadow_trainer.pipeline.regions import MARGIN, RegionPlanner
from shadow_trainer.pose import Letterbox, PoseDetections, PoseEstimator
from tests.support.agreement import agreement


def people(*boxes: list[float]) -> PoseDetections:
    keypoints = np.zeros((len(boxes), 17, 3), np.float32)
    found = np.array(boxes, np.float32).reshape(-1, 4)
    return PoseDetections(found, np.full(len(boxes), 0.9, np.float32), keypoints)


def test_a_crop_is_a_view_of_the_same_input_that_maps_back_to_the_same_pixels() -> None:
    box = Letterbox.fit(1920, 1080)
    crop = box.cropped(160, 64, 416, 384)
    assert (crop.input_width, crop.input_height, crop.scale) == (256, 320, box.scale)
    in_full = np.array([[300.0, 200.0]])
    in_crop = in_full - [160, 64]
    np.testing.assert_allclose(crop.to_source(in_crop.copy()), box.to_source(in_full.copy()))


def test_after_a_whole_look_the_next_views_are_the_crop_around_the_people() -> None:
    box = Letterbox.fit(1920, 1080)
    planner = RegionPlanner(box, inferred_fps=30, lag=1)
    boxer = [800.0, 200.0, 1100.0, 1000.0]
    views = []
    for k in range(2 * planner.full_every + 1):
        views.append(planner.view(k))
        planner.seen(views[-1], people(boxer))
    # The whole picture first (nothing found yet) and once a second: whoever walks in is found.
    assert [k for k, view in enumerate(views) if view is box] == [
        0,
        planner.full_every,
        2 * planner.full_every,
    ]
    crop = views[1]
    assert crop.input_width % 32 == 0 and crop.input_height % 32 == 0
    corners = crop.to_source(np.array([[0.0, 0.0], [crop.input_width, crop.input_height]]))
    margin = MARGIN * (boxer[3] - boxer[1])
    assert corners[0, 0] <= boxer[0] - margin and corners[1, 0] >= boxer[2] + margin
    assert crop.input_width * crop.input_height < 0.45 * box.input_width * box.input_height
    assert planner.crops == 2 * planner.full_every - 2


def test_someone_missing_from_the_crop_or_everyone_spread_out_means_the_whole_picture() -> None:
    box = Letterbox.fit(1280, 720)
    planner = RegionPlanner(box, inferred_fps=30, lag=1)
    planner.seen(planner.view(0), people([100, 100, 300, 700], [900, 100, 1100, 700]))
    assert planner.view(1) is box  # two fighters far apart: the crop would be most of the picture
    planner.seen(box, people([500, 100, 700, 700], [650, 100, 850, 700]))
    crop = planner.view(2)
    assert crop is not box
    planner.seen(crop, people([500, 100, 700, 700]))  # one of the two is gone from the crop
    assert planner.view(3) is box
    planner.seen(box, people())  # nobody found: nothing to look around
    assert planner.view(4) is box


def test_a_view_waits_for_the_result_it_depends_on_and_never_forever() -> None:
    box = Letterbox.fit(640, 480)
    planner = RegionPlanner(box, inferred_fps=30, lag=2)
    assert planner.view(0) is box and planner.view(1) is box  # before any result can be known
    answer: list[Letterbox] = []
    waiting = threading.Thread(target=lambda: answer.append(planner.view(2)))
    waiting.start()
    waiting.join(0.3)
    assert waiting.is_alive()  # frame 0's people are not known yet
    planner.seen(box, people([300, 100, 400, 400]))
    waiting.join(5)
    assert answer and answer[0] is not box
    stuck = threading.Thread(target=lambda: answer.append(planner.view(4)))
    stuck.start()
    planner.close()  # inference stopped: the decoder goes on with the whole picture
    stuck.join(5)
    assert not stuck.is_alive() and answer[1] is box


def test_disabled_it_always_looks_at_the_whole_picture() -> None:
    box = Letterbox.fit(640, 480)
    planner = RegionPlanner(box, inferred_fps=30, lag=1, enabled=False)
    planner.seen(planner.view(0), people([300, 100, 400, 400]))
    assert planner.view(1) is box and planner.crops == 0


@pytest.mark.parametrize("clip_name", ["boxing", "walkers"])
def test_looking_around_the_people_finds_the_keypoints_the_whole_picture_gives(
    clip_name: str, boxing_clip: Path, people_clip: Path, tmp_path: Path, onnx_estimator: PoseEstimator
) -> None:
    """Real footage, both ways: most frames are looked at in a crop, and everyone the whole picture
    finds is found with the same keypoints (mean OKS ≥ 0.95); twice with crops, the very same keypoints
    (the crops do not depend on how the threads ran)."""
    clip = boxing_clip if clip_name == "boxing" else people_clip
    info = probe_video(clip)
    progress = Progress(None, None)
    progress.stage("analyzing")
    frames, crops = {}, {}
    for run, looked in (("whole", False), ("crops", True), ("again", True)):
        out = tmp_path / f"{run}.json"
        result = run_pose_pass(
            clip, info, onnx_estimator, keypoints_path=out, pose_log_path=tmp_path / f"{run}.log",
            progress=progress, crops=looked,
        )  # fmt: skip
        frames[run], crops[run] = json.loads(out.read_text())["frames"], result.crop_frames
    assert crops["whole"] == 0
    if clip_name == "boxing":
        assert crops["crops"] >= 0.8 * len(frames["crops"])  # one boxer in a wide picture: mostly crops
    assert agreement(frames["whole"], frames["crops"])[1] >= 0.95
    assert frames["again"] == frames["crops"] and crops["again"] == crops["crops"]
