"""The simulated boxer's body: proportions, two-bone inverse kinematics and COCO-17 assembly.

World axes: X is the boxer's right at heading 0, Y is up, and the boxer faces -Z (a right-handed
frame, so a camera built in it sees people the right way round, not mirrored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.pose.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.pose.keypoint_names import NUM_KEYPOINTS

FloatArray = NDArray[np.float64]
UP = np.array([0.0, 1.0, 0.0])


@dataclass(frozen=True)
class Proportions:
    """Segment lengths in metres; defaults are an average adult, ``scaled`` varies them."""

    torso: float = 0.52  # hip centre to shoulder centre
    shoulder_half: float = 0.19
    hip_half: float = 0.11
    upper_arm: float = 0.29
    forearm: float = 0.26
    thigh: float = 0.44
    shin: float = 0.43
    neck_to_nose: float = 0.2

    def scaled(self, rng: np.random.Generator) -> Proportions:
        size = rng.uniform(0.9, 1.1)
        arm = rng.uniform(0.93, 1.07)  # arms vary relative to the torso
        width = rng.uniform(0.92, 1.08)
        return Proportions(
            torso=self.torso * size,
            shoulder_half=self.shoulder_half * size * width,
            hip_half=self.hip_half * size * width,
            upper_arm=self.upper_arm * size * arm,
            forearm=self.forearm * size * arm,
            thigh=self.thigh * size,
            shin=self.shin * size,
            neck_to_nose=self.neck_to_nose * size,
        )


def two_bone(root: FloatArray, target: FloatArray, a: float, b: float, pole: FloatArray) -> FloatArray:
    """Middle joint (elbow/knee) for bones ``a``,``b`` reaching ``target``, bent toward ``pole``.

    Works on (T, 3) arrays; targets out of reach are pulled in so the limb is straight.
    """
    d = target - root
    dist = np.linalg.norm(d, axis=1, keepdims=True)
    dist = np.clip(dist, 1e-6, None)
    axis = d / dist
    reach = np.clip(dist, abs(a - b) + 1e-4, a + b - 1e-5)
    along = (a**2 - b**2 + reach**2) / (2 * reach)
    height = np.sqrt(np.clip(a**2 - along**2, 0.0, None))
    side = pole - np.sum(pole * axis, axis=1, keepdims=True) * axis
    side /= np.clip(np.linalg.norm(side, axis=1, keepdims=True), 1e-9, None)
    return root + axis * along + side * height


def limb_end(root: FloatArray, target: FloatArray, a: float, b: float) -> FloatArray:
    """The end point actually reached (``target`` clipped to the limb's length)."""
    d = target - root
    dist = np.clip(np.linalg.norm(d, axis=1, keepdims=True), 1e-6, None)
    return root + d / dist * np.clip(dist, abs(a - b) + 1e-4, a + b - 1e-5)


def assemble(
    joints: dict[str, FloatArray], forward: FloatArray, lead_is_left: bool, neck_to_nose: float
) -> FloatArray:
    """(T, 17, 3) COCO keypoints from named joints ("lead_wrist", "rear_knee", "neck", ...)."""
    frames = joints["neck"].shape[0]
    out = np.zeros((frames, NUM_KEYPOINTS, 3))
    names = {"lead": "left" if lead_is_left else "right", "rear": "right" if lead_is_left else "left"}
    for role, side in names.items():
        for part in ("shoulder", "elbow", "wrist", "hip", "knee", "ankle"):
            out[:, K[f"{side}_{part}"]] = joints[f"{role}_{part}"]
    head = joints["neck"] + UP * neck_to_nose * 0.75
    face_fwd = forward / np.linalg.norm(forward, axis=1, keepdims=True)
    # In this right-handed frame forward x up points to the boxer's right.
    face_right = np.cross(face_fwd, UP)
    out[:, K["nose"]] = head + face_fwd * 0.1 - UP * 0.01
    for side, sign in (("left", -1.0), ("right", 1.0)):
        out[:, K[f"{side}_eye"]] = head + face_fwd * 0.08 + face_right * sign * 0.033 + UP * 0.03
        out[:, K[f"{side}_ear"]] = head + face_right * sign * 0.075 + UP * 0.01
    return out
