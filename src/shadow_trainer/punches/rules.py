"""The kinematic classifier: hand-written rules over candidate features.

straight (jab/cross): the arm ends nearly straight; uppercut: the forearm is upright and the wrist
climbs; hook: bent arm with the elbow up near shoulder height. Small or slow extensions are feints.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.punches.candidate_features import FEATURE_NAMES

_F = {name: i for i, name in enumerate(FEATURE_NAMES)}
LABELS: tuple[str, ...] = ("none", "straight", "hook", "uppercut")

MIN_PUNCH_ACTIVITY = 0.45
MIN_PUNCH_SPEED = 2.0
STRAIGHT_ELBOW_COS = -0.75


def rule_probabilities(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """One-hot-ish scores over LABELS for one feature vector."""
    out = np.zeros(len(LABELS))
    if x[_F["activity"]] < MIN_PUNCH_ACTIVITY or x[_F["peak_speed"]] < MIN_PUNCH_SPEED:
        out[0] = 1.0
    elif x[_F["elbow_cos"]] < STRAIGHT_ELBOW_COS:
        out[1] = 1.0
    elif x[_F["forearm_vertical"]] > 0.6 and x[_F["wrist_rise"]] > 0.2:
        out[3] = 1.0
    else:
        out[2] = 1.0
    return out
