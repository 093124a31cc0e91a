"""Turning raw YOLO pose output into people: score filter, NMS, back to source pixels.

Both runtimes produce the same raw tensor (batch, 56, anchors): box cx, cy, w, h, the person
score, then 17 × (x, y, confidence), already sigmoid-activated by the exported head.
"""

from __future__ import annotations

import numpy as np

from shadow_trainer.pose.detections import PoseDetections
from shadow_trainer.pose.keypoint_names import NUM_KEYPOINTS
from shadow_trainer.pose.preprocess import Letterbox
from shadow_trainer.tracking.tracker import iou_matrix

CONF_THRESHOLD = 0.25  # Ultralytics' predict default
IOU_THRESHOLD = 0.7  # Ultralytics' NMS default
MAX_DETECTIONS = 100
_ROW_WIDTH = 5 + NUM_KEYPOINTS * 3


def candidates(raw: np.ndarray, conf: float = CONF_THRESHOLD) -> list[np.ndarray]:
    """Per image, the (k, 56) anchor rows whose person score passes ``conf``."""
    return [image[:, image[4] > conf].T for image in raw]


def nms(
    boxes: np.ndarray, scores: np.ndarray, iou: float = IOU_THRESHOLD, limit: int = MAX_DETECTIONS
) -> np.ndarray:
    """Indices kept by greedy non-maximum suppression, best score first."""
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size and len(keep) < limit:
        best = int(order[0])
        keep.append(best)
        rest = order[1:]
        order = rest[iou_matrix(boxes[best][None], boxes[rest])[0] <= iou]
    return np.asarray(keep, dtype=np.int64)


def to_detections(rows: np.ndarray, box: Letterbox) -> PoseDetections:
    """NMS on one image's candidate rows, then map boxes and keypoints to source pixels."""
    if rows.shape[0] == 0:
        return PoseDetections.empty()
    rows = rows.astype(np.float32, copy=False)
    cx, cy, w, h = rows[:, 0], rows[:, 1], rows[:, 2], rows[:, 3]
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1)
    keep = nms(boxes, rows[:, 4])
    boxes = boxes[keep]
    keypoints = rows[keep, 5:_ROW_WIDTH].reshape(-1, NUM_KEYPOINTS, 3).copy()
    box.to_source(boxes.reshape(-1, 2, 2))
    box.to_source(keypoints[..., :2])
    return PoseDetections(boxes=boxes, scores=rows[keep, 4].copy(), keypoints=keypoints)
