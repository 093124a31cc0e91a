"""A simulated 3D boxer throwing labelled punches, seen by a virtual camera, for tests and evaluation."""

from boxing_sim.clip import ClipConditions, SimulatedClip, random_conditions, simulate_clip
from boxing_sim.dataset import clip_seed, write_dataset
from boxing_sim.scoring import Score, match, score_clip

__all__ = [
    "ClipConditions",
    "Score",
    "SimulatedClip",
    "clip_seed",
    "match",
    "random_conditions",
    "score_clip",
    "simulate_clip",
    "write_dataset",
]
