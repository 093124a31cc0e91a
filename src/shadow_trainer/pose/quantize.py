"""INT8 static quantisation of the exported ONNX pose model, for CPU workers.

ONNX Runtime's quantiser (QDQ, per-channel INT8 weights, UINT8 activations) makes the backbone,
the neck and most of the pose head integer arithmetic, which this CPU family runs with VNNI
instructions. The score branch, the last convolution of the box and keypoint branches and the
decoding stay in float: in 8 bits mid-range scores collapse onto a few levels (a 0.42 pedestrian
became 0.26 or vanished), and the tracker and the punch stage read scores and keypoint confidences.
Activation ranges are calibrated on real photographs of people: the two that Ultralytics
ships with its package, in random crops, flips and exposures, so the same calibration is available
offline and every worker builds the same file. Measured against the FP32 model on real boxing
footage in `bench/bench_fast_paths.py`.

The result is cached beside the FP32 export (same file lock and atomic rename: several workers may
ask for it at once).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from shadow_trainer.errors import AnalysisError
from shadow_trainer.pose.onnx_export import exclusive_lock
from shadow_trainer.pose.preprocess import Letterbox, letterbox_image

log = logging.getLogger(__name__)

CALIBRATION_VERSION = 3  # change when the recipe below changes: the cache key includes it
CALIBRATION_IMAGES = ("bus.jpg", "zidane.jpg")
CROPS_PER_IMAGE = 24
HEAD_PREFIX = "/model.23/"  # the pose head of YOLO11 exports


def calibration_inputs(imgsz: int, seed: int = 0) -> Iterator[np.ndarray]:
    """NCHW float inputs, as the runtime feeds them, from crops of Ultralytics' sample photographs."""
    import ultralytics

    from shadow_trainer.pose.runtimes import to_nchw_float

    assets = Path(ultralytics.__file__).parent / "assets"
    rng = np.random.default_rng(seed)
    for name in CALIBRATION_IMAGES:
        image = cv2.imread(str(assets / name))
        if image is None:
            raise AnalysisError(
                f"calibration image {name} is missing from Ultralytics", code="model_export_failed"
            )
        for index in range(CROPS_PER_IMAGE):
            crop = _augmented_crop(image, rng, mirror=bool(index % 2))
            box = Letterbox.fit(crop.shape[1], crop.shape[0], imgsz)
            yield to_nchw_float(letterbox_image(crop, box)[None])


def _augmented_crop(image: np.ndarray, rng: np.random.Generator, *, mirror: bool) -> np.ndarray:
    height, width = image.shape[:2]
    scale = rng.uniform(0.5, 1.0)
    crop_h, crop_w = int(height * scale), int(width * scale)
    y, x = int(rng.integers(0, height - crop_h + 1)), int(rng.integers(0, width - crop_w + 1))
    crop = image[y : y + crop_h, x : x + crop_w]
    if mirror:
        crop = crop[:, ::-1]
    exposed = crop.astype(np.float32) * rng.uniform(0.6, 1.3) + rng.uniform(-30, 30)
    return np.ascontiguousarray(np.clip(exposed, 0, 255).astype(np.uint8))


def quantized_onnx(fp32: Path, *, imgsz: int) -> Path:
    """The INT8 model made from the FP32 export `fp32` (cached next to it), quantising it first if needed."""
    target = fp32.with_name(f"{fp32.stem}-int8-c{CALIBRATION_VERSION}.onnx")
    if target.is_file():
        return target
    with exclusive_lock(fp32.parent / f"{target.name}.lock"):
        if target.is_file():
            return target
        log.info("quantising %s to INT8 (once; cached at %s)", fp32.name, target)
        with tempfile.TemporaryDirectory(dir=fp32.parent, prefix=".quantise-") as tmp:
            try:
                produced = _quantize(fp32, Path(tmp), imgsz)
            except AnalysisError:
                raise
            except Exception as exc:  # the quantiser raises many kinds; the caller needs one
                raise AnalysisError(
                    f"INT8 quantisation of {fp32.name} failed: {exc}", code="model_export_failed"
                ) from exc
            os.replace(produced, target)
    return target


def _stays_float(name: str, op_type: str) -> bool:
    """The head's decoding, its score branch (``cv3``), and the last convolution of the box and
    keypoint branches (``cv2.0.2``, ``cv4.1.2``, DFL)."""
    if not name.startswith(HEAD_PREFIX):
        return False
    return op_type != "Conv" or "/cv3." in name or name.endswith(".2/Conv") or "/dfl/" in name


def _quantize(fp32: Path, work_dir: Path, imgsz: int) -> Path:
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = work_dir / "prepared.onnx"
    quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
    graph = onnx.load(str(prepared)).graph
    head = [node.name for node in graph.node if _stays_float(node.name, node.op_type)]
    input_name = graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self._inputs = calibration_inputs(imgsz)

        def get_next(self) -> dict[str, np.ndarray] | None:
            batch = next(self._inputs, None)
            return None if batch is None else {input_name: batch}

    out = work_dir / "int8.onnx"
    quantize_static(
        str(prepared), str(out), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=head,
    )  # fmt: skip
    return out
