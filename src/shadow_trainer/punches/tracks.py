"""Turning the per-frame people lists of a keypoints document into one boxer's time series.

The main boxer is the track seen in most frames with the largest, most central body; a sparring
partner or coach in view is ignored so that their arm movements never become punches.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.keypoint_names import NUM_KEYPOINTS

# Keypoints below this confidence are treated as missing (pose models emit junk there).
MIN_CONFIDENCE = 0.3
# Untracked people are linked to the previous frame's track when their bbox centres are this close
# (as a fraction of the bbox diagonal).
_LINK_DISTANCE = 0.5


def assign_tracks(doc: dict[str, Any]) -> list[list[tuple[int, dict[str, Any]]]]:
    """Per frame, the people paired with a track id; ids are invented when the document has none."""
    previous: list[tuple[int, NDArray[np.float64], float]] = []
    next_id = -1
    out: list[list[tuple[int, dict[str, Any]]]] = []
    for frame in doc["frames"]:
        current: list[tuple[int, dict[str, Any]]] = []
        linked: list[tuple[int, NDArray[np.float64], float]] = []
        for person in frame["people"]:
            centre, diag = _bbox_centre(person["bbox"])
            tid = person.get("track_id")
            if tid is None:
                tid = _nearest(previous, centre, diag)
                if tid is None:
                    tid, next_id = next_id, next_id - 1
            current.append((tid, person))
            linked.append((tid, centre, diag))
        previous = linked
        out.append(current)
    return out


def _bbox_centre(bbox: list[float]) -> tuple[NDArray[np.float64], float]:
    x1, y1, x2, y2 = (float(v) for v in bbox)
    return np.array([(x1 + x2) / 2, (y1 + y2) / 2]), float(np.hypot(x2 - x1, y2 - y1))


def _nearest(
    previous: list[tuple[int, NDArray[np.float64], float]], centre: NDArray[np.float64], diag: float
) -> int | None:
    best: int | None = None
    best_d = np.inf
    for tid, c, d in previous:
        dist = float(np.linalg.norm(c - centre))
        if dist < _LINK_DISTANCE * max(d, diag, 1.0) and dist < best_d:
            best, best_d = tid, dist
    return best


def choose_main_track(doc: dict[str, Any], tracked: list[list[tuple[int, dict[str, Any]]]]) -> int | None:
    """The track with the highest sum over frames of (relative body size x centrality)."""
    width, height = float(doc["width"]), float(doc["height"])
    scores: dict[int, float] = defaultdict(float)
    for people in tracked:
        for tid, person in people:
            x1, y1, x2, y2 = (float(v) for v in person["bbox"])
            area = max(x2 - x1, 0.0) * max(y2 - y1, 0.0) / (width * height)
            off = np.hypot((x1 + x2) / (2 * width) - 0.5, (y1 + y2) / (2 * height) - 0.5)
            scores[tid] += np.sqrt(area) * (1.0 - 0.8 * min(off / 0.7071, 1.0))
    if not scores:
        return None
    return max(scores, key=lambda k: scores[k])


def track_points(
    doc: dict[str, Any], tracked: list[list[tuple[int, dict[str, Any]]]], track_id: int
) -> NDArray[np.float64]:
    """(frames, 17, 2) pixel positions of one track on the frame-index grid; NaN where unknown."""
    frames = doc["frames"]
    length = max(int(doc["frame_count"]), (frames[-1]["index"] + 1) if frames else 0)
    points = np.full((length, NUM_KEYPOINTS, 2), np.nan)
    for frame, people in zip(frames, tracked, strict=True):
        for tid, person in people:
            if tid != track_id:
                continue
            rows = np.asarray(person["keypoints"], dtype=float)
            good = rows[:, 2] >= MIN_CONFIDENCE
            points[frame["index"], good] = rows[good, :2]
            break
    return points
