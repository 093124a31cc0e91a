"""Typed per-person keypoint series: what tracking hands to punch analysis.

A ``TrackSeries`` holds, per track id, the person's keypoints over the span of frames where the
track exists, as arrays (frames × 17 × 3, NaN where the person was not detected in a frame). It
is built from the pose pass's on-disk log in the pipeline, or from a ``keypoints.json`` document
(CLI ``classify``, evaluation); both round coordinates as ``keypoints.json`` does, so a document
written by the pipeline gives the same series, and the same punches, as the pipeline itself.
Documents without track ids get them from the engine's one tracker.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.documents.keypoints_writer import COORD_DECIMALS, SCORE_DECIMALS, T_DECIMALS
from shadow_trainer.pose.keypoint_names import NUM_KEYPOINTS
from shadow_trainer.tracking.tracker import PersonTracker, tracker_for

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Track:
    track_id: int
    first: int  # frame index of the first sighting
    keypoints: FloatArray  # (n, 17, 3) x, y, confidence from ``first`` on; NaN rows where unseen
    boxes: FloatArray  # (n, 4) x1 y1 x2 y2; NaN rows where unseen

    @property
    def last(self) -> int:
        return self.first + len(self.keypoints) - 1

    @property
    def frames_seen(self) -> int:
        return int(np.isfinite(self.boxes[:, 0]).sum())

    def points(self, frame_count: int) -> FloatArray:
        """(frame_count, 17, 3) on the whole video's frame grid, NaN outside the track."""
        out = np.full((frame_count, NUM_KEYPOINTS, 3), np.nan)
        hi = min(self.last + 1, frame_count)
        out[self.first : hi] = self.keypoints[: hi - self.first]
        return out


@dataclass(frozen=True)
class TrackSeries:
    fps: float
    width: int
    height: int
    frame_count: int
    tracks: dict[int, Track]
    times: FloatArray | None = None  # each frame's timestamp in seconds; None: frame ÷ fps

    def video_time(self, nominal: float) -> float:
        """The video's clock at ``nominal`` seconds counted as frames ÷ fps. The same for a constant
        frame rate; for a variable one (a phone drops to 15 fps in low light) the frames' own timestamps,
        which is what the player shows."""
        if self.times is None or len(self.times) < 2:
            return nominal
        frame, last = nominal * self.fps, len(self.times) - 1
        if frame >= last:
            return float(self.times[-1] + (frame - last) / self.fps)
        if frame <= 0:
            return float(self.times[0])
        # Between two frames' timestamps, in constant time: a long session asks once per punch edge.
        i = int(frame)
        return float(self.times[i] + (frame - i) * (self.times[i + 1] - self.times[i]))


def frame_times(times: Iterable[float]) -> FloatArray | None:
    """Timestamps fit to map punch times (rounded as ``keypoints.json`` rounds them), or None where
    they do not rise frame after frame (a document written by hand)."""
    out = np.round(np.asarray(list(times), dtype=float), T_DECIMALS)
    if len(out) < 2 or not np.all(np.diff(out) > 0):
        return None
    return out


class _Collector:
    """Gathers sightings (frame, track, box, keypoints) into ``Track`` arrays."""

    def __init__(self) -> None:
        self._rows: dict[int, list[tuple[int, FloatArray, FloatArray]]] = {}

    def add(self, frame: int, track_id: int, box: Iterable[float], keypoints: Iterable[Any]) -> None:
        kp = np.asarray(keypoints, dtype=float).reshape(NUM_KEYPOINTS, 3)
        rounded = np.column_stack([np.round(kp[:, :2], COORD_DECIMALS), np.round(kp[:, 2], SCORE_DECIMALS)])
        box_arr = np.round(np.asarray(box, dtype=float).reshape(4), COORD_DECIMALS)
        self._rows.setdefault(track_id, []).append((frame, box_arr, rounded))

    def tracks(self) -> dict[int, Track]:
        out: dict[int, Track] = {}
        for tid, rows in self._rows.items():
            first, last = rows[0][0], rows[-1][0]
            kp = np.full((last - first + 1, NUM_KEYPOINTS, 3), np.nan)
            boxes = np.full((last - first + 1, 4), np.nan)
            for frame, box, keypoints in rows:
                kp[frame - first], boxes[frame - first] = keypoints, box
            out[tid] = Track(tid, first, kp, boxes)
        return out


def from_keypoints(doc: dict[str, Any]) -> TrackSeries:
    """The series of a validated ``keypoints.json`` document."""
    collector = _Collector()
    tracker: PersonTracker | None = None
    fps = float(doc["fps"])
    for frame in doc["frames"]:
        people = frame["people"]
        ids = [p.get("track_id") for p in people]
        if any(i is None for i in ids):
            tracker = tracker or tracker_for(fps)
            boxes = np.asarray([p["bbox"] for p in people], dtype=np.float32).reshape(-1, 4)
            ids = tracker.update(boxes)
        for tid, person in zip(ids, people, strict=True):
            collector.add(int(frame["index"]), int(tid), person["bbox"], person["keypoints"])
    frames = doc["frames"]
    count = max(int(doc["frame_count"]), (frames[-1]["index"] + 1) if frames else 0)
    listed = {int(f["index"]): float(f["t"]) for f in frames}
    times = frame_times(listed.get(i, i / fps) for i in range(count))
    return TrackSeries(fps, int(doc["width"]), int(doc["height"]), count, collector.tracks(), times)


def from_rows(
    rows: Iterable[tuple[int, int, FloatArray, FloatArray]],
    *,
    fps: float,
    width: int,
    height: int,
    frame_count: int,
    times: Iterable[float] = (),
) -> TrackSeries:
    """The series of (frame, track id, box, keypoints) sightings in frame order (the pose log), with
    the decoded frames' timestamps."""
    collector = _Collector()
    for frame, track_id, box, keypoints in rows:
        collector.add(frame, track_id, np.asarray(box, dtype=float), np.asarray(keypoints, dtype=float))
    return TrackSeries(fps, width, height, frame_count, collector.tracks(), frame_times(times))
