"""Punch labels in annotated.mp4 stay readable: never on the running count, never on each other."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from shadow_trainer.render.draw import LISTED_SCALE, fighter_label_origin, label_box, listed_label_origin

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


def test_the_list_of_punches_of_fighters_out_of_view_overlaps_neither_the_count_nor_itself() -> None:
    for scale in (0.5, 1.0, 1.5):  # 360p to 1080p
        line = round(40 * scale)
        boxes = [label_box("punches: 123", (12, line), scale)]
        boxes += [
            label_box("UPPERCUT right rear", listed_label_origin(n, line), scale * LISTED_SCALE)
            for n in (1, 2, 3)
        ]
        for upper, lower in pairwise(boxes):
            assert upper[3] <= lower[1], (scale, boxes)


def test_fighters_labels_stay_clear_of_the_list_above_them() -> None:
    scale, line = 1.0, LINE
    listed = [
        label_box("UPPERCUT right rear", listed_label_origin(n, line), scale * LISTED_SCALE) for n in (1, 2)
    ]
    top = listed_label_origin(3, line)[1]
    for box_top in (0, 60, 150, 300):
        box = np.array([20.0, box_top, 400.0, 700.0])
        for k in (1, 2, 3):
            origin = fighter_label_origin(box, k, line, 1280, 720, scale, top)
            x1, y1, x2, y2 = label_box("CROSS right rear", origin, scale * 1.1)
            assert all(y1 >= b[3] or y2 <= b[1] for b in listed), (box_top, k, (x1, y1, x2, y2), listed)
