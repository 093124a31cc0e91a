"""Punch detection and classification from keypoints (keypoints.json -> punches.json, summary)."""

from shadow_trainer.documents.keypoints_reader import load_keypoints, validate_keypoints
from shadow_trainer.punches.pipeline import classify_keypoints, classify_tracks
from shadow_trainer.punches.summary import summarize_punches

__all__ = [
    "classify_keypoints",
    "classify_tracks",
    "load_keypoints",
    "summarize_punches",
    "validate_keypoints",
]
