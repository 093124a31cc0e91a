"""Choosing a runtime for a device request and running pose estimation on images."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np

from shadow_trainer.errors import AnalysisError
from shadow_trainer.pose.detections import PoseDetections
from shadow_trainer.pose.models import model_folder, resolve_model
from shadow_trainer.pose.onnx_export import default_cache_dir, exported_onnx
from shadow_trainer.pose.options import DEFAULT_MODEL, Precision
from shadow_trainer.pose.postprocess import to_detections
from shadow_trainer.pose.preprocess import Letterbox, letterbox_image
from shadow_trainer.pose.quantize import quantized_onnx
from shadow_trainer.pose.runtimes import OnnxRuntimePose, PoseRuntime, TorchPose

log = logging.getLogger(__name__)

Runtime = Literal["onnx", "torch"]
IMGSZ = 640
Tag = TypeVar("Tag")


def cuda_available() -> bool:
    """True when torch can use a CUDA GPU; skips importing torch where no NVIDIA driver exists."""
    if not Path("/proc/driver/nvidia/version").exists() and not Path("/dev/nvidia0").exists():
        return False
    try:
        import torch

        return bool(torch.cuda.is_available())
    except Exception:  # a broken CUDA install: no GPU, rather than a worker that cannot start
        return False


def choose_runtime(device: str) -> tuple[Runtime, str]:
    """(runtime, torch device) for a job's ``device``: gpu → torch/CUDA, cpu → ONNX, auto → best."""
    if device == "cpu":
        return "onnx", "cpu"
    if device == "gpu":
        if not cuda_available():
            raise AnalysisError(
                "A GPU was requested but no CUDA device is available here.", code="gpu_unavailable"
            )
        return "torch", "cuda"
    if device == "auto":
        return ("torch", "cuda") if cuda_available() else ("onnx", "cpu")
    raise AnalysisError(f"Unknown device {device!r}: use auto, cpu or gpu.", code="invalid_device")


@dataclass
class PoseEstimator:
    """A model name bound to one runtime; turns letterboxed RGB batches into people."""

    model: str
    runtime: PoseRuntime
    imgsz: int = IMGSZ

    @property
    def batch_size(self) -> int:
        return self.runtime.batch_size

    def letterbox(self, width: int, height: int) -> Letterbox:
        return Letterbox.fit(width, height, self.imgsz)

    def warm_up(self, box: Letterbox) -> None:
        """One throw-away batch at the video's input shape: allocations (and CUDA kernel
        selection) happen while loading, not on the first frames."""
        blank = np.zeros((self.batch_size, box.input_height, box.input_width, 3), np.uint8)
        batches = ((list(blank), [box] * self.batch_size, None) for _ in range(self.runtime.streams))
        for _ in self.stream(batches):
            pass

    def estimate_batch(
        self, inputs: Sequence[np.ndarray], boxes: Sequence[Letterbox]
    ) -> list[PoseDetections]:
        """People in each RGB model input (all of one size), in source pixels; ``boxes`` say how each
        input was made from its picture (the whole picture letterboxed, or a part of that)."""
        rows = self.runtime.infer(np.stack(inputs))
        return [to_detections(r, box) for r, box in zip(rows, boxes, strict=True)]

    def stream(
        self, batches: Iterable[tuple[list[np.ndarray], Sequence[Letterbox], Tag]]
    ) -> Iterator[tuple[list[PoseDetections], Tag]]:
        """``estimate_batch`` over many batches, ``runtime.streams`` at a time, results in order.

        Each batch carries a tag (its frames' indices and times) that comes back with its people.
        """
        if self.runtime.streams <= 1:
            for inputs, boxes, tag in batches:
                yield self.estimate_batch(inputs, boxes), tag
            return
        with ThreadPoolExecutor(self.runtime.streams, thread_name_prefix="pose") as pool:
            pending: deque[tuple[Future[list[PoseDetections]], Tag]] = deque()
            for inputs, boxes, tag in batches:
                pending.append((pool.submit(self.estimate_batch, inputs, boxes), tag))
                if len(pending) > self.runtime.streams:
                    done, done_tag = pending.popleft()
                    yield done.result(), done_tag
            while pending:
                done, done_tag = pending.popleft()
                yield done.result(), done_tag

    def estimate_image(self, bgr: np.ndarray) -> PoseDetections:
        """People in one BGR image (e.g. from ``cv2.imread``)."""
        box = self.letterbox(bgr.shape[1], bgr.shape[0])
        return self.estimate_batch([letterbox_image(bgr, box)], [box])[0]


def onnx_export_of(
    weights: Path, *, model_dir: Path | None = None, cache_dir: Path | None = None, imgsz: int = IMGSZ
) -> Path:
    """The FP32 ONNX export CPU workers run for ``weights`` (exported once, then cached)."""
    cache = cache_dir or default_cache_dir(weights, model_folder(model_dir))
    return exported_onnx(weights, imgsz=imgsz, cache_dir=cache)


def load_pose_estimator(
    model: str = DEFAULT_MODEL,
    *,
    device: str = "auto",
    runtime: Runtime | None = None,
    model_dir: Path | None = None,
    cache_dir: Path | None = None,
    imgsz: int = IMGSZ,
    precision: Precision = "fp32",
) -> PoseEstimator:
    """Resolve ``model`` and load it on the runtime ``device`` calls for (or the forced ``runtime``);
    ``precision`` applies to ONNX Runtime (CPU), torch on a GPU stays in float."""
    weights = resolve_model(model, model_dir)
    chosen, torch_device = choose_runtime(device)
    if runtime == "torch" and chosen == "onnx":
        torch_device = "cpu"  # torch forced on a CPU machine (tests, comparisons)
    chosen = runtime or chosen
    if chosen == "torch":
        return PoseEstimator(model, TorchPose(weights, torch_device), imgsz)
    onnx_path = onnx_export_of(weights, model_dir=model_dir, cache_dir=cache_dir, imgsz=imgsz)
    if precision == "int8":
        onnx_path = quantized_onnx(onnx_path, imgsz=imgsz)
    log.info("pose model %s on ONNX Runtime (%s)", model, onnx_path)
    name = "onnx" if precision == "fp32" else f"onnx-{precision}"
    return PoseEstimator(model, OnnxRuntimePose(onnx_path, name=name), imgsz)
