"""A pinhole camera placed around the boxer, and projection to pixel coordinates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from boxing_sim.body import UP

FloatArray = NDArray[np.float64]
RESOLUTIONS: tuple[tuple[int, int], ...] = ((1280, 720), (1920, 1080), (640, 480), (720, 1280), (960, 540))


@dataclass(frozen=True)
class Camera:
    position: FloatArray
    right: FloatArray  # image +x
    down: FloatArray  # image +y
    forward: FloatArray  # optical axis
    focal_px: float
    width: int
    height: int
    yaw_deg: float  # camera direction from the boxer's facing direction (0 = in front)

    def project(self, points: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Pixel (…, 2) positions and depths (…) of world points (…, 3)."""
        rel = points - self.position
        depth = rel @ self.forward
        x = self.focal_px * (rel @ self.right) / depth + self.width / 2
        y = self.focal_px * (rel @ self.down) / depth + self.height / 2
        return np.stack([x, y], axis=-1), depth


def look_at(position: FloatArray, target: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Right, down and forward axes of a level camera at ``position`` looking at ``target``."""
    forward = (target - position) / np.linalg.norm(target - position)
    right = np.cross(-UP, forward)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return right, down, forward


def random_camera(
    rng: np.random.Generator, yaw_deg: float, boxer_centre: FloatArray, boxer_height: float, fill: float
) -> Camera:
    """A camera ``yaw_deg`` around from the front (positive: toward the boxer's right side)
    at a distance where the boxer spans about ``fill`` of the image height."""
    width, height = RESOLUTIONS[rng.integers(len(RESOLUTIONS))]
    vfov = np.radians(rng.uniform(40, 60))
    focal = height / 2 / np.tan(vfov / 2)
    distance = focal * boxer_height / (fill * height)
    yaw = np.radians(yaw_deg)
    # The boxer faces -Z; "in front" is at -Z, and positive yaw swings round to the boxer's right (+X).
    direction = np.array([np.sin(yaw), 0.0, -np.cos(yaw)])
    cam_height = rng.uniform(0.7, 2.0)
    position = boxer_centre + direction * distance
    position[1] = cam_height
    # Aim a little off the boxer so they are not always dead centre in the frame.
    aim = (
        boxer_centre
        + np.array([0.0, 0.05, 0.0])
        + rng.normal(0, 0.08 * boxer_height, 3) * np.array([1, 0.5, 1])
    )
    right, down, forward = look_at(position, aim)
    return Camera(position, right, down, forward, focal, int(width), int(height), yaw_deg)
