"""The two inference runtimes behind one interface.

``OnnxRuntimePose`` (CPU workers) runs the cached ONNX export with ONNX Runtime;
``TorchPose`` (GPU workers) runs the checkpoint with torch, batched and in fp16 on CUDA.
Both take RGB uint8 batches (B, H, W, 3) and return per-image candidate rows (k, 56).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from shadow_trainer.pose.postprocess import CONF_THRESHOLD, candidates
from shadow_trainer.pose.ultralytics_env import configure_ultralytics_offline


class PoseRuntime(Protocol):
    name: str  # "onnx" | "onnx-int8" | "torch"
    device: str  # "cpu" | "cuda"
    batch_size: int
    streams: int  # how many ``infer`` calls may run at once (thread-safe runtimes)

    def infer(self, batch: np.ndarray) -> list[np.ndarray]: ...


def to_nchw_float(batch: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(batch.transpose(0, 3, 1, 2), dtype=np.float32) * np.float32(1 / 255)


class OnnxRuntimePose:
    device = "cpu"
    batch_size = 1  # on CPU a bigger batch buys nothing and delays the first results

    def __init__(self, onnx_path: Path, cores: int | None = None, name: str = "onnx") -> None:
        import onnxruntime as ort

        self.name = name  # onnx, onnx-int8: what summary.json reports as the runtime
        cores = cores or len(os.sched_getaffinity(0))
        # Frames in parallel rather than one frame's operators in parallel: a single-threaded
        # run has no per-operator barrier that a preempted thread stalls, and measured here
        # 2 concurrent 1-thread runs beat one 2-thread run (more at equal load from others).
        threads_per_stream = max(1, cores // 4)
        self.streams = max(1, cores // threads_per_stream)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads_per_stream
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning idle threads would steal the CPU from our decode/encode threads.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self._input = self._session.get_inputs()[0].name

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        (raw,) = self._session.run(None, {self._input: to_nchw_float(batch)})
        return candidates(raw)


class TorchPose:
    name = "torch"

    def __init__(self, weights: Path, device: str, batch_size: int | None = None) -> None:
        configure_ultralytics_offline()
        import torch
        from ultralytics import YOLO

        self._torch = torch
        self.device = device
        self.batch_size = batch_size or (16 if device == "cuda" else 1)
        self.streams = 1  # one CUDA stream; throughput comes from batching
        self._half = device == "cuda"
        module: Any = YOLO(str(weights), task="pose").model
        module = module.fuse() if hasattr(module, "fuse") else module
        module = module.to(device).eval()
        self._model = module.half() if self._half else module.float()

    def infer(self, batch: np.ndarray) -> list[np.ndarray]:
        torch = self._torch
        with torch.inference_mode():
            # Ship uint8 to the device (4× less traffic than float) and normalise there.
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device, non_blocking=True)
            x = x.permute(0, 3, 1, 2).to(torch.float16 if self._half else torch.float32).div_(255)
            out = self._model(x)
            raw = out[0] if isinstance(out, list | tuple) else out
            # Filter on the device so only the few candidate rows travel back.
            return [image[:, image[4] > CONF_THRESHOLD].T.float().cpu().numpy() for image in raw]
