"""The typed shape of ``summary.json`` (schema version 2: every fighter, the coaching analytics).

Built by the punch summary (``punches/summary.py``, ``punches/analytics.py``) and completed by
``documents/summary.py``; the service reads the figures of a session from it. The coaching parts are
typed to their first level (definitions in the punches README).
"""

from __future__ import annotations

from typing import Any, TypedDict

from shadow_trainer.documents.punches_document import StanceSwitch


class Counts(TypedDict):
    total_punches: int
    punches_per_minute: float
    by_type: dict[str, int]
    by_hand: dict[str, int]
    by_side: dict[str, int]
    by_type_and_hand: dict[str, dict[str, int]]


class Coaching(TypedDict):
    combos: list[dict[str, Any]]
    top_combos: list[dict[str, Any]]
    rounds: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    speed: dict[str, Any]
    guard: dict[str, Any]


class FighterSummary(Counts, Coaching):
    track_id: int
    stance: str
    stance_confidence: float
    seen: float
    stance_switches: list[StanceSwitch]


class PunchSummary(Counts, Coaching):
    stance: str
    stance_confidence: float
    boxer_found: bool
    main_track_id: int | None
    stance_switches: list[dict[str, Any]]  # everyone's, each with its track_id
    fighters: list[FighterSummary]


class SummaryDocument(PunchSummary):
    schema_version: int
    duration: float
    video: dict[str, Any]
    model: str
    runtime: str
    device: str
    frames_analyzed: int
    pose_frames: int
    pose_crop_frames: int
    processing_fps: float
    people_tracked: int
    decode_error: str | None
