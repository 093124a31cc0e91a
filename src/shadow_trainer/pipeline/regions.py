"""Where pose looks: a crop around the people already found, the whole picture now and then.

Most of a boxing video is floor, wall and ring; the fighters take a part of it. Once a look at the whole
picture has found them, the next frames' model inputs are only a crop of the (letterboxed) picture
around them: the same scale, so the keypoints are the model's own at the same resolution, for a
fraction of the arithmetic. The whole picture is looked at again every ``FULL_EVERY_S`` (someone who
walks in is found within that) and whenever a crop finds fewer people than the last whole look did
(someone left it, or moved faster than its margin).

The decode thread prepares frames ahead of inference, so the view of inferred frame k is decided from
what was found in frame k - ``lag``, a fixed distance: the decoder waits for that result if it has to.
The views, and so the keypoints, are the same on every run of a video, however the threads happen to
be scheduled; the crop's margin covers the movement over those ``lag`` frames.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from shadow_trainer.pose import Letterbox, PoseDetections

FULL_EVERY_S = 1.0
# Around the people's boxes, in units of their height: they move during the lag.
MARGIN = 0.25
# A crop bigger than this share of the picture saves too little: the whole picture is looked at.
MAX_SHARE = 0.6
STRIDE = 32
Crop = tuple[int, int, int, int]  # x0, y0, x1, y1 in model-input pixels


class RegionPlanner:
    """``view`` is called by the decode thread for inferred frames 0, 1, 2…; ``seen`` with each
    frame's people, in the same order, by the inference loop; ``close`` when either stops."""

    def __init__(self, box: Letterbox, inferred_fps: float, *, lag: int, enabled: bool = True) -> None:
        self.box = box
        self.enabled = enabled
        self.lag = max(lag, 1)
        self.full_every = max(1, round(FULL_EVERY_S * inferred_fps))
        self._changed = threading.Condition()
        self._next_crops: dict[int, Crop | None] = {}  # per seen frame: the crop it suggests
        self._seen = 0  # frames whose people are known
        self._expected = 0  # people the last whole look found
        self._closed = False
        self.crops = 0  # views that were a crop (for the summary and benches)

    def view(self, k: int) -> Letterbox:
        """The geometry of inferred frame k's model input."""
        if not self.enabled or k < self.lag or k % self.full_every == 0:
            return self.box
        with self._changed:
            self._changed.wait_for(lambda: self._seen > k - self.lag or self._closed)
            crop = self._next_crops.pop(k - self.lag, None)
        if crop is None:
            return self.box
        self.crops += 1
        return self.box.cropped(*crop)

    def seen(self, view: Letterbox, people: PoseDetections) -> None:
        """What the model found in the next frame's view."""
        # Everyone found, however faint: a crop that left someone out would make their track flicker.
        with self._changed:
            if view is self.box:
                self._expected = len(people)
            # Someone went missing from a crop: the whole picture next.
            fewer = view is not self.box and len(people) < self._expected
            # Kept for the view `lag` frames on, unless that one looks at the whole picture anyway.
            if self.enabled and (self._seen + self.lag) % self.full_every:
                self._next_crops[self._seen] = None if fewer else self._around(people.boxes)
            self._seen += 1
            self._changed.notify_all()

    def close(self) -> None:
        """No more results will come: a waiting decoder goes on (with the whole picture)."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _around(self, boxes: np.ndarray) -> Crop | None:
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
