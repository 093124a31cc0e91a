"""A flat binary log of every tracked person, kept on disk instead of in memory.

Rows are float32: frame index, track id, score, box (4), keypoints (17 × 3). The render pass and
the main boxer's keypoint document read it back through a memory map, so RAM stays flat
however long the video is.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from shadow_trainer.pose.detections import PoseDetections
from shadow_trainer.pose.keypoint_names import NUM_KEYPOINTS

ROW = 7 + NUM_KEYPOINTS * 3
FRAME, TRACK, SCORE = 0, 1, 2
BOX = slice(3, 7)
KEYPOINTS = slice(7, ROW)


class PoseLogWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: BinaryIO = path.open("wb")

    def write(self, frame_index: int, track_ids: list[int], people: PoseDetections) -> None:
        if not len(people):
            return
        rows = np.empty((len(people), ROW), np.float32)
        rows[:, FRAME] = frame_index
        rows[:, TRACK] = track_ids
        rows[:, SCORE] = people.scores
        rows[:, BOX] = people.boxes
        rows[:, KEYPOINTS] = people.keypoints.reshape(len(people), -1)
        self._fh.write(rows.tobytes())

    def close(self) -> None:
        self._fh.close()


class PoseLog:
    """Read side: the rows of one frame, or of one track, without loading the whole log."""

    def __init__(self, path: Path) -> None:
        size = path.stat().st_size
        if size:
            self._rows = np.memmap(path, dtype=np.float32, mode="r").reshape(-1, ROW)
        else:
            self._rows = np.zeros((0, ROW), np.float32)
        # Rows were written in frame order, so a frame's rows are one contiguous slice.
        self._frames = np.asarray(self._rows[:, FRAME], dtype=np.int64)

    def frame_rows(self, frame_index: int) -> np.ndarray:
        lo, hi = np.searchsorted(self._frames, [frame_index, frame_index + 1])
        return np.asarray(self._rows[lo:hi])

    def sightings(self, chunk: int = 65536) -> Iterator[tuple[int, int, np.ndarray, np.ndarray]]:
        """(frame, track id, box, 17 × 3 keypoints) of every row in frame order, read chunk by chunk."""
        for start in range(0, len(self._rows), chunk):
            block = np.asarray(self._rows[start : start + chunk], dtype=np.float64)
            for row in block:
                yield int(row[FRAME]), int(row[TRACK]), row[BOX], row[KEYPOINTS].reshape(-1, 3)
