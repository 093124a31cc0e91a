"""Tracking keeps ids through motion, crossing paths and short gaps; main-fighter choice."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from shadow_trainer.pose import PoseEstimator
from shadow_trainer.pose.preprocess import letterbox_image
from shadow_trainer.tracking.prominence import most_prominent, prominence
from shadow_trainer.tracking.series import Track
from shadow_trainer.tracking.tracker import PersonTracker
from tests.support.clips import video_frames


def _box(cx: float, cy: float, w: float = 40, h: float = 100) -> np.ndarray:
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], np.float32)


def test_ids_follow_two_people_walking_past_each_other() -> None:
    tracker = PersonTracker()
    seen: list[tuple[int, int]] = []
    for step in range(40):
        a = _box(100 + 8 * step, 200)  # walks right
        b = _box(420 - 8 * step, 215)  # walks left, crossing ``a`` around step 20
        order = [a, b] if step % 2 else [b, a]  # detector order must not matter
        ids = tracker.update(np.stack(order))
        seen.append((ids[0], ids[1]) if step % 2 else (ids[1], ids[0]))
    assert len(set(seen)) == 1
    assert seen[0][0] != seen[0][1]


def test_id_survives_a_short_gap_and_new_people_get_new_ids() -> None:
    tracker = PersonTracker(max_lost=10)
    first = tracker.update(np.stack([_box(100, 100)]))[0]
    for _ in range(5):
        assert tracker.update(np.zeros((0, 4), np.float32)) == []
    assert tracker.update(np.stack([_box(104, 100)])) == [first]
    newcomer = tracker.update(np.stack([_box(108, 100), _box(500, 300)]))
    assert newcomer[0] == first and newcomer[1] not in (0, first)


def test_lost_track_is_dropped_after_the_buffer() -> None:
    tracker = PersonTracker(max_lost=3)
    first = tracker.update(np.stack([_box(100, 100)]))[0]
    for _ in range(5):
        tracker.update(np.zeros((0, 4), np.float32))
    assert tracker.update(np.stack([_box(100, 100)])) != [first]


def test_real_pedestrians_keep_their_ids(vtest_path: Path, onnx_estimator: PoseEstimator) -> None:
    box = onnx_estimator.letterbox(768, 576)
    frames = [letterbox_image(bgr, box) for bgr in video_frames(vtest_path, 12, start=550)]
    tracker = PersonTracker()
    ids_per_frame = [
        set(tracker.update(p.boxes)) for p in (onnx_estimator.estimate_batch([f], [box])[0] for f in frames)
    ]
    persistent = set.intersection(*ids_per_frame[2:])
    assert len(persistent) >= 2  # the two nearest walkers keep one id throughout
    all_ids = set.union(*ids_per_frame)
    assert len(all_ids) <= len(ids_per_frame[0]) + 4  # no id churn


def test_main_fighter_is_the_big_central_track() -> None:
    def track(track_id: int, box: list[float], frames: int) -> Track:
        return Track(track_id, 0, np.zeros((frames, 17, 3)), np.tile(np.asarray(box, float), (frames, 1)))

    small_corner = prominence(track(1, [40, 40, 90, 160], 30), 640, 480)
    big_central = prominence(track(2, [220, 60, 420, 470], 30), 640, 480)
    huge_once = prominence(track(3, [200, 0, 640, 480], 1), 640, 480)
    assert big_central > small_corner and big_central > huge_once
    assert most_prominent({1: small_corner, 2: big_central, 3: huge_once}) == 2
    assert most_prominent({4: 1.0, 3: 1.0}) == 3  # a tie: the earlier track
    assert most_prominent({}) is None
