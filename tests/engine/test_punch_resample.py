"""Low frame rates: the punch stage upsamples tracks below ``MIN_FPS`` and reports video frames."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from boxing_sim import ClipConditions, Score, clip_seed, score_clip, simulate_clip
from shadow_trainer.punches import classify_keypoints
from shadow_trainer.punches.resample import MIN_FPS, frame_step, upsampled
from shadow_trainer.tracking.series import Track, TrackSeries

SEED = 5151


@pytest.mark.parametrize(
    ("fps", "step"), [(60.0, 1), (MIN_FPS, 1), (15.0, 2), (12.5, 2), (10.0, 2), (8.0, 3), (0.0, 1)]
)
def test_frame_step_reaches_the_minimum_rate(fps: float, step: int) -> None:
    assert frame_step(fps) == step


def test_upsampling_interpolates_between_sightings_and_keeps_gaps() -> None:
    keypoints = np.zeros((4, 17, 3))
    keypoints[:, :, 0] = [[0.0], [10.0], [np.nan], [30.0]]
    keypoints[:, :, 2] = [[0.9], [0.5], [np.nan], [0.8]]
    boxes = np.array([[0, 0, 10, 10], [10, 0, 20, 10], [np.nan] * 4, [30, 0, 40, 10]], dtype=float)
    series = TrackSeries(10.0, 64, 48, 6, {3: Track(3, 2, keypoints, boxes)})

    out = upsampled(series, 2)

    assert (out.fps, out.frame_count) == (20.0, 11)
    track = out.tracks[3]
    assert track.first == 4 and len(track.keypoints) == 7
    np.testing.assert_allclose(track.keypoints[:3, 0, 0], [0.0, 5.0, 10.0])
    assert track.keypoints[1, 0, 2] == 0.5  # the lower confidence of the two
    np.testing.assert_allclose(track.boxes[1], [5, 0, 15, 10])
    assert np.isnan(track.boxes[3:6, 0]).all()  # frame 2 was not seen: no bridge over it here
    assert track.keypoints[6, 0, 0] == 30.0
    assert track.frames_seen == 4


def _every_other_frame(doc: dict[str, Any]) -> dict[str, Any]:
    frames = [{**f, "index": f["index"] // 2} for f in doc["frames"] if f["index"] % 2 == 0]
    return {**doc, "fps": doc["fps"] / 2, "frame_count": (doc["frame_count"] + 1) // 2, "frames": frames}


def test_a_clip_filmed_at_half_the_rate_is_analysed_nearly_as_well() -> None:
    full, half = Score(), Score()
    for i in range(6):
        clip = simulate_clip(clip_seed(SEED, i), ClipConditions(fps=24.0, view="side" if i % 2 else "front"))
        full.add(score_clip(clip.labels, classify_keypoints(clip.keypoints)))
        doc = _every_other_frame(clip.keypoints)
        result = classify_keypoints(doc)
        half.add(score_clip(clip.labels, result))
        for p in result["punches"]:  # frames are the video's own, times as exact as the movement
            assert 0 <= p["frame"] < doc["frame_count"]
            assert abs(p["t"] - p["frame"] / doc["fps"]) <= 0.5 / doc["fps"] + 1e-3
        seen = {f["track_id"]: f["seen"] for f in result["fighters"]}
        assert all(0.9 <= s <= 1.0 for s in seen.values()), seen
    assert full.true_positives + full.false_negatives > 25
    assert half.f1 >= full.f1 - 0.1, (full, half)


def test_a_variable_frame_rate_gives_times_on_the_videos_clock() -> None:
    clip = simulate_clip(clip_seed(SEED, 7), ClipConditions(fps=30.0, duration=12.0))
    doc = copy.deepcopy(clip.keypoints)
    half = len(doc["frames"]) // 2
    for f in doc["frames"]:  # a phone in low light: the second half's frames came 1/15 s apart
        i = f["index"]
        f["t"] = round(i / 30 if i <= half else half / 30 + (i - half) / 15, 6)
    steady, variable = classify_keypoints(clip.keypoints), classify_keypoints(doc)

    clock = {f["index"]: f["t"] for f in doc["frames"]}
    assert [p["frame"] for p in variable["punches"]] == [p["frame"] for p in steady["punches"]]
    for p in variable["punches"]:  # frame ÷ fps would be up to 6 s early in the second half
        assert p["t"] == pytest.approx(clock[p["frame"]], abs=1 / 15)
        assert p["t_start"] <= p["t"] <= p["t_end"]
    assert any(p["frame"] > half + 30 for p in variable["punches"])
    (fighter,) = variable["fighters"]
    assert fighter["active"][-1][1] == pytest.approx(clock[len(clock) - 1], abs=0.5)
