"""Pose estimation with Ultralytics YOLO pose models: torch (GPU) or ONNX Runtime (CPU)."""

from shadow_trainer.pose.detections import PoseDetections
from shadow_trainer.pose.estimator import PoseEstimator, choose_runtime, cuda_available, load_pose_estimator
from shadow_trainer.pose.models import DEFAULT_MODEL, available_models, resolve_model
from shadow_trainer.pose.preprocess import Letterbox

__all__ = [
    "DEFAULT_MODEL",
    "Letterbox",
    "PoseDetections",
    "PoseEstimator",
    "available_models",
    "choose_runtime",
    "cuda_available",
    "load_pose_estimator",
    "resolve_model",
]
