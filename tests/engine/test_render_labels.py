"""Punch labels in annotated.mp4 stay readable: never on the running count, never on each other."""

from __future__ import annotations

import numpy as np

from shadow_trainer.render.draw import fighter_label_origin

LINE = 40  # the renderer's line height at 720p


def test_labels_of_a_fighter_at_the_top_edge_go_inside_the_box_one_per_line() -> None:
    for top in (0, 10, 50, 90, 130, 300):
        box = np.array([100.0, top, 400.0, 700.0])
        ys = [fighter_label_origin(box, k, LINE, 1280, 720, 1.0)[1] for k in (1, 2, 3)]
        assert min(ys) >= 2 * LINE, (top, ys)  # below the "punches: N" line
        gaps = np.diff(sorted(ys))
        assert gaps.min() >= 0.8 * LINE, (top, ys)  # one label a line


def test_labels_stay_in_the_frame() -> None:
    x, y = fighter_label_origin(np.array([1270.0, 700.0, 1280.0, 720.0]), 1, LINE, 1280, 720, 1.0)
    assert 4 <= x <= 1280 - 200 and 0 < y <= 720 - 8
