"""The arithmetic pose runs in on CPU. A light module (no model imports): the settings and the CLI read it.

fp32 is the reference; int8 is the statically quantised model (``pose/quantize.py``), measured against
it on real boxing footage in ``bench/bench_pose_precision.py``. A GPU (torch) stays in float.
"""

from __future__ import annotations

from typing import Literal

Precision = Literal["fp32", "int8"]
PRECISIONS: tuple[Precision, ...] = ("fp32", "int8")
DEFAULT_PRECISION: Precision = "int8"
