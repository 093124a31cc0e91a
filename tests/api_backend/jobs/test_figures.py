"""A finished session's figures (from summary.json) and the job list's still (from the annotated video)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from api_backend.jobs.figures import mean_speed, session_figures, thumbnail_time
from api_backend.jobs.thumbnail import write_thumbnail
from boxing_sim import ClipConditions, simulate_clip
from shadow_trainer.punches import classify_keypoints, summarize_punches
from tests.support.clips import write_clip


def simulated_summary() -> dict:
    clip = simulate_clip(5, ClipConditions(duration=12.0, fps=30.0, stance="orthodox"))
    doc = classify_keypoints(clip.keypoints)
    return {**summarize_punches(doc, duration_s=12.0), "duration": 12.0}


def test_figures_are_the_main_fighters_from_the_summary() -> None:
    summary = simulated_summary()
    main = next(f for f in summary["fighters"] if f["track_id"] == summary["main_track_id"])
    figures = session_figures(summary)
    assert figures["track_id"] == main["track_id"] and figures["fighters"] == len(summary["fighters"])
    assert figures["punches"] == main["total_punches"] > 0
    assert figures["punches_per_minute"] == main["punches_per_minute"]
    assert figures["combos"] == len(main["combos"])
    assert figures["combos_per_minute"] == round(len(main["combos"]) / 0.2, 2)
    speeds = [row for row in main["speed"]["by_type"].values() if row["count"]]
    expected = sum(row["mean"] * row["count"] for row in speeds) / sum(row["count"] for row in speeds)
    assert figures["mean_speed"] == round(expected, 3)


def test_a_second_fighter_does_not_count_for_the_main_one() -> None:
    fighter = {"track_id": 7, "total_punches": 3, "punches_per_minute": 3.0, "combos": [], "speed": None}
    other = {"track_id": 9, "total_punches": 40, "punches_per_minute": 40.0, "combos": [{}] * 5}
    summary = {"duration": 60.0, "main_track_id": 7, "fighters": [other, fighter], "total_punches": 43,
               "punches_per_minute": 43.0, "combos": [{}] * 5}  # fmt: skip
    figures = session_figures(summary)
    assert (figures["track_id"], figures["punches"], figures["combos"], figures["fighters"]) == (7, 3, 0, 2)
    assert figures["mean_speed"] is None
    nobody = session_figures({"duration": 0.0, "fighters": [], "main_track_id": None, "total_punches": 0})
    assert (nobody["punches"], nobody["punches_per_minute"], nobody["combos_per_minute"]) == (0, 0.0, 0.0)


def test_mean_speed_weights_each_type_by_its_count() -> None:
    speed = {"by_type": {"jab": {"count": 3, "mean": 2.0}, "hook": {"count": 1, "mean": 6.0},
                         "cross": {"count": 0, "mean": None}}}  # fmt: skip
    assert mean_speed(speed) == 3.0
    assert mean_speed({"by_type": {}}) is None and mean_speed(None) is None


def test_the_still_shows_the_longest_combination() -> None:
    combos = [
        {"sequence": ["jab", "cross"], "t_start": 1.0, "t_end": 1.5},
        {"sequence": ["jab", "cross", "hook"], "t_start": 4.0, "t_end": 5.1},
        {"sequence": ["jab", "jab", "cross"], "t_start": 8.0, "t_end": 8.9},
    ]
    assert thumbnail_time({"combos": combos, "duration": 10.0}) == 5.1  # the first of the longest
    assert thumbnail_time({"combos": [], "duration": 10.0}) == 5.0


def test_thumbnail_is_a_small_jpeg_of_the_frame_at_that_time(tmp_path: Path) -> None:
    fps, seconds = 10, 4
    frames = (np.full((360, 640, 3), index * 6, np.uint8) for index in range(fps * seconds))
    video = write_clip(tmp_path / "clip.mp4", frames, fps=fps)
    for at_s, frame_index in ((2.0, 20), (0.0, 0), (9.0, fps * seconds - 1)):  # past the end: the last frame
        out = write_thumbnail(video, at_s, tmp_path / "thumb.jpg")
        assert out is not None and out.read_bytes()[:3] == b"\xff\xd8\xff"
        image = cv2.imread(str(out))
        assert image is not None and image.shape == (180, 320, 3)
        assert abs(float(image.mean()) - frame_index * 6) < 4, (at_s, image.mean())
