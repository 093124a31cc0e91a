"""Writing ``keypoints.json`` (schema in DESIGN.md) one frame at a time.

Frames are appended to a side file as they are analysed; ``close`` writes the header (the
frame count is only known at the end), then copies the frames in, so the document never sits
in memory.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import NotRequired, TextIO, TypedDict

import numpy as np

from shadow_trainer.pose.detections import PoseDetections
from shadow_trainer.pose.keypoint_names import KEYPOINT_NAMES

# keypoints.json's rounding; the track series built from the pose log rounds the same way.
COORD_DECIMALS = 2
SCORE_DECIMALS = 4
T_DECIMALS = 6  # frame timestamps: a microsecond


class PersonRecord(TypedDict):
    """One person in one frame of keypoints.json (pixel coordinates in the original frame)."""

    track_id: int
    bbox: list[float]  # x1, y1, x2, y2
    score: float
    keypoints: list[list[float]]  # 17 rows of x, y, confidence, in KEYPOINT_NAMES order


class FrameRecord(TypedDict):
    index: int
    t: float
    people: list[PersonRecord]
    interpolated: NotRequired[bool]  # only when true: no pose ran on this frame


def person_json(track_id: int, box: np.ndarray, score: float, keypoints: np.ndarray) -> PersonRecord:
    return {
        "track_id": int(track_id),
        "bbox": [round(float(v), COORD_DECIMALS) for v in box],
        "score": round(float(score), SCORE_DECIMALS),
        "keypoints": [
            [
                round(float(x), COORD_DECIMALS),
                round(float(y), COORD_DECIMALS),
                round(float(c), SCORE_DECIMALS),
            ]
            for x, y, c in keypoints
        ],
    }


def frame_json(index: int, t: float, people: list[PersonRecord], interpolated: bool = False) -> FrameRecord:
    """`interpolated` (only when true): no pose ran on this frame; its people are interpolated."""
    frame: FrameRecord = {"index": index, "t": round(t, T_DECIMALS), "people": people}
    if interpolated:
        frame["interpolated"] = True
    return frame


class KeypointsWriter:
    def __init__(self, path: Path, *, fps: float, width: int, height: int) -> None:
        self.path = path
        self._header = {"fps": fps, "width": width, "height": height}
        self._frames_path = path.with_name(path.name + ".frames")
        self._fh: TextIO = self._frames_path.open("w", encoding="utf-8")
        self.frame_count = 0

    def add(
        self,
        index: int,
        t: float,
        track_ids: list[int],
        people: PoseDetections,
        *,
        interpolated: bool = False,
    ) -> None:
        persons = [
            person_json(tid, people.boxes[i], float(people.scores[i]), people.keypoints[i])
            for i, tid in enumerate(track_ids)
        ]
        if self.frame_count:
            self._fh.write(",")
        self._fh.write(json.dumps(frame_json(index, t, persons, interpolated), separators=(",", ":")))
        self.frame_count += 1

    def close(self) -> None:
        self._fh.close()
        header = json.dumps(
            {**self._header, "frame_count": self.frame_count, "keypoint_names": list(KEYPOINT_NAMES)}
        )
        with self.path.open("w", encoding="utf-8") as out, self._frames_path.open(encoding="utf-8") as frames:
            out.write(header[:-1] + ',"frames":[')
            shutil.copyfileobj(frames, out, 1 << 20)
            out.write("]}")
        self._frames_path.unlink()
