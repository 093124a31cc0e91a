"""Turning raw YOLO pose output into people: score filter, NMS, back to source pixels.

Both runtimes produce the same raw tensor (batch, 56, anchors): box cx, cy, w, h, the person
score, then 17 × (x, y, confidence), already sigmoid-activated by the exported head.
"""

from __future__ import annotations

import numpy as np

from shadow_trainer.keypoint_names import NUM_KEYPOINTS
from shadow_trainer.pose.detections import PoseDetections
from shadow_trainer.pose.preprocess import Letterbox

CONF_THRESHOLD = 0.25  # Ultralytics' predict default
IOU_THRESHOLD = 0.7  # Ultralytics' NMS default
MAX_DETECTIONS = 100
_ROW_WIDTH = 5 + NUM_KEYPOINTS * 3


def candidates(raw: np.ndarray, conf: float = CONF_THRESHOLD) -> list[np.ndarray]:
    """Per image, the (k, 56) anchor rows whose person score passes ``conf``."""
    return [image[:, image[4] > conf].T for image in raw]


def _iou_one_to_many(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    x1 = np.maximum(box[0], others[:, 0])
    y1 = np.maximum(box[1], others[:, 1])
    x2 = np.minimum(box[2], others[:, 2])
    y2 = np.minimum(box[3], others[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-9)


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
        order = rest[_iou_one_to_many(boxes[best], boxes[rest]) <= iou]
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
