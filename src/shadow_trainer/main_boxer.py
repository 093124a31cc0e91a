"""Picking the main boxer: the track that is biggest and most central for the longest time.

Only running sums per track are kept, so memory does not grow with video length.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class MainBoxerPicker:
    width: int
    height: int
    _weight: dict[int, float] = field(default_factory=dict)
    _frames: dict[int, int] = field(default_factory=dict)

    def add(self, track_id: int, box: np.ndarray) -> None:
        """Score one sighting: box area (share of the frame) × closeness of its centre to the middle."""
        x1, y1, x2, y2 = (float(v) for v in box)
        area = max(x2 - x1, 0.0) * max(y2 - y1, 0.0) / (self.width * self.height)
        dx = ((x1 + x2) / 2 - self.width / 2) / (self.width / 2)
        dy = ((y1 + y2) / 2 - self.height / 2) / (self.height / 2)
        centrality = max(0.0, 1.0 - 0.5 * float(np.hypot(dx, dy)))
        self._weight[track_id] = self._weight.get(track_id, 0.0) + area * (0.25 + centrality)
        self._frames[track_id] = self._frames.get(track_id, 0) + 1

    @property
    def track_count(self) -> int:
        return len(self._frames)

    def frames_seen(self, track_id: int) -> int:
        return self._frames.get(track_id, 0)

    def pick(self) -> int | None:
        """The main boxer's track id, or None when nobody was seen."""
        if not self._weight:
            return None
        return max(self._weight, key=lambda tid: (self._weight[tid], -tid))
