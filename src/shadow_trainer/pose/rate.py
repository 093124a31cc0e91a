"""How often pose runs: on every n-th frame, so that slow motion costs what normal video does.

A light module (no model imports): the settings and the CLI read its default.
"""

from __future__ import annotations

POSE_FPS = 60.0  # twice the punch features' rate: 120/240 fps slow motion costs what 60 fps does


def pose_stride(fps: float, max_pose_fps: float | None = POSE_FPS) -> int:
    """Run pose on every n-th frame so that pose still runs at least ~0.95 × ``max_pose_fps`` times a
    second (at 30: 59.94 fps → 2, 50 → 1, 120 → 4; at 60: 120 → 2); None or 0: every frame."""
    if not max_pose_fps or fps <= 0:
        return 1
    return max(1, int(fps / max_pose_fps + 0.05))
