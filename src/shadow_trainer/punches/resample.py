"""Low frame rates: the punch stage sees every track at >= ``MIN_FPS``.

At 12.5 fps a straight is out and back in two or three frames and its full extension often falls
between two of them, so the activity peak is flattened and the candidate's speeds and rise times are
quantised to a few steps. Frames between two seen ones get keypoints linearly interpolated (the pose
pass's rule, ``keypoints_between``), so the same movement reads about
as it does at a normal rate. The candidate model is trained on tracks seen the same way. Measured on
the real clips at half their rate (every other frame), cross-validated by source: F1 0.62 without,
0.68 with (punches README).
"""

from __future__ import annotations

import math

import numpy as np

from shadow_trainer.pose.detections import keypoints_between
from shadow_trainer.tracking.series import Track, TrackSeries

# The lowest rate the punch features are computed at (a webcam's 15 fps becomes 30, 10 fps 20).
MIN_FPS = 20.0


def frame_step(fps: float) -> int:
    """How many punch-stage frames each video frame becomes (1: as filmed)."""
    return max(math.ceil(MIN_FPS / fps - 1e-9), 1) if fps > 0 else 1


def upsampled(series: TrackSeries, step: int) -> TrackSeries:
    """``series`` with ``step`` - 1 interpolated frames between every two; frame i becomes i * step.
    Only frames between two sightings of a person are filled: a gap stays a gap."""
    if step == 1:
        return series
    tracks = {tid: _upsampled_track(t, step) for tid, t in series.tracks.items()}
    frame_count = (series.frame_count - 1) * step + 1 if series.frame_count else 0
    return TrackSeries(series.fps * step, series.width, series.height, frame_count, tracks)


def _upsampled_track(track: Track, step: int) -> Track:
    n = len(track.keypoints)
    keypoints = np.full(((n - 1) * step + 1, *track.keypoints.shape[1:]), np.nan)
    boxes = np.full(((n - 1) * step + 1, 4), np.nan)
    keypoints[::step], boxes[::step] = track.keypoints, track.boxes
    seen = np.isfinite(track.boxes[:, 0])
    pairs = np.flatnonzero(seen[:-1] & seen[1:])  # a sighting followed by one in the next frame
    for j in range(1, step):
        w = j / step
        keypoints[pairs * step + j] = keypoints_between(track.keypoints[pairs], track.keypoints[pairs + 1], w)
        boxes[pairs * step + j] = track.boxes[pairs] * (1 - w) + track.boxes[pairs + 1] * w
    return Track(track.track_id, track.first * step, keypoints, boxes)
