"""Where pose looks: a crop around the people already found, the whole picture now and then.

Most of a boxing video is floor, wall and ring; the fighters take a part of it. Once a look at the whole
picture has found them, the next frames' model inputs are only a crop of the (letterboxed) picture
around them: the same scale, so the keypoints are the model's own at the same resolution, for a
fraction of the arithmetic. The whole picture is looked at again every ``FULL_EVERY_S`` (someone who
walks in is found within that) and whenever a crop finds fewer people than the last whole look did
(someone left it, or moved faster than its margin).

The decode thread asks for each frame's view ahead of inference (a few frames of prefetch), so the
crop is around the latest people found, widened by a margin for the movement in between.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from shadow_trainer.pose import Letterbox, PoseDetections

FULL_EVERY_S = 1.0
# Around the people's boxes, in units of their height: they move while the decoder runs ahead.
MARGIN = 0.25
# A crop bigger than this share of the picture saves too little: the whole picture is looked at.
MAX_SHARE = 0.6
# Only people found with this score make the crop (a faint false detection would widen it).
MIN_SCORE = 0.4
STRIDE = 32


class RegionPlanner:
    """Thread-safe: ``view`` is called by the decode thread, ``seen`` with each inference result."""

    def __init__(self, box: Letterbox, inferred_fps: float, *, enabled: bool = True) -> None:
        self.box = box
        self.enabled = enabled
        self.full_every = max(1, round(FULL_EVERY_S * inferred_fps))
        self._lock = threading.Lock()
        self._crop: tuple[int, int, int, int] | None = None
        self._since_full = 0
        self._expected = 0
        self.crops = 0  # views that were a crop (for the summary and benches)

    def view(self) -> Letterbox:
        """The geometry of the next inferred frame's model input."""
        with self._lock:
            if not self.enabled or self._crop is None or self._since_full >= self.full_every:
                self._since_full = 0
                return self.box
            self._since_full += 1
            self.crops += 1
            return self.box.cropped(*self._crop)

    def seen(self, view: Letterbox, people: PoseDetections) -> None:
        """What the model found in a view: the people to look around next."""
        sure = people.scores >= MIN_SCORE
        with self._lock:
            if view is self.box:
                self._expected = int(sure.sum())
            elif int(sure.sum()) < self._expected:
                self._crop = None  # someone went missing in the crop: the whole picture next
                return
            self._crop = self._around(people.boxes[sure])

    def _around(self, boxes: np.ndarray) -> tuple[int, int, int, int] | None:
        """The crop of the model input around ``boxes`` (source pixels), or None for the whole."""
        if not len(boxes):
            return None
        box = self.box
        x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
        x1, y1 = boxes[:, 2].max(), boxes[:, 3].max()
        margin = MARGIN * float((boxes[:, 3] - boxes[:, 1]).max())
        left = _down(box.pad_left + (x0 - margin) * box.scale, 0)
        top = _down(box.pad_top + (y0 - margin) * box.scale, 0)
        right = _up(box.pad_left + (x1 + margin) * box.scale, box.input_width)
        bottom = _up(box.pad_top + (y1 + margin) * box.scale, box.input_height)
        if (right - left) * (bottom - top) > MAX_SHARE * box.input_width * box.input_height:
            return None
        return left, top, right, bottom


def _down(value: float, low: int) -> int:
    return max(low, math.floor(value / STRIDE) * STRIDE)


def _up(value: float, high: int) -> int:
    return min(high, math.ceil(value / STRIDE) * STRIDE)
