"""The engine's top level: its public entry points, loaded only when used."""

from __future__ import annotations

import subprocess
import sys

import shadow_trainer


def test_every_public_name_resolves() -> None:
    for name in shadow_trainer.__all__:
        assert getattr(shadow_trainer, name) is not None, name
    assert shadow_trainer.OUTPUT_NAMES == ("annotated.mp4", "keypoints.json", "punches.json", "summary.json")


def test_a_constant_does_not_load_the_pose_runtimes() -> None:
    """What the API server does: it must not pay for onnxruntime and torch."""
    code = (
        "import sys, shadow_trainer\n"
        "from shadow_trainer.pose.options import DEVICES\n"
        "print(sorted(m for m in ('onnxruntime', 'torch') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"
