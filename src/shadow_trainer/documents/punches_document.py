"""The typed shape of ``punches.json`` (version 2: every fighter; contract in DESIGN.md).

The punch stage builds these and every reader inside the engine (summary, coaching analytics,
rendering) takes them, so a renamed or missing field is a type error, not a ``KeyError`` in a job.
They are plain dicts at run time: written to JSON as they are.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict, get_args

# The words of punches.json.
Hand = Literal["left", "right"]
Side = Literal["lead", "rear"]
PunchType = Literal["jab", "cross", "hook", "uppercut"]
HANDS: tuple[Hand, ...] = get_args(Hand)
SIDES: tuple[Side, ...] = get_args(Side)
PUNCH_TYPES: tuple[PunchType, ...] = get_args(PunchType)

# "from" is a Python keyword, so this one is declared the functional way.
StanceSwitch = TypedDict("StanceSwitch", {"t": float, "from": str, "to": str})


class Punch(TypedDict):
    t: float  # seconds, at full extension / impact
    frame: int
    t_start: float
    t_end: float
    track_id: int
    hand: Hand
    side: Side
    type: PunchType
    confidence: float
    peak_speed: float  # shoulder widths per second
    guard_dropped: bool | None  # the other hand left the guard during the punch (None: not seen)


class Fighter(TypedDict):
    track_id: int
    stance: str  # orthodox | southpaw | unknown
    stance_confidence: float
    punches: int
    seen: float  # share of the video's frames with this person in view
    stance_switches: list[StanceSwitch]
    # Boxing time, [start, end] in seconds: guard up or punching (work, as opposed to rest).
    # Not in documents written before 2026-12-07.
    active: NotRequired[list[list[float]]]


class PunchesDocument(TypedDict):
    stance: str  # the main fighter's
    stance_confidence: float
    fps: float
    main_track_id: int | None
    fighters: list[Fighter]
    punches: list[Punch]
