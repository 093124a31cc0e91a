"""Reading and strict validation of ``keypoints.json`` documents (schema in DESIGN.md).

Every problem is reported as :class:`InvalidKeypointsError` whose message names the exact place
(``frames[12].people[0].keypoints``) so that a user can fix the file without reading our code.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from shadow_trainer.errors import InvalidKeypointsError
from shadow_trainer.pose.keypoint_names import KEYPOINT_NAMES, NUM_KEYPOINTS


def load_keypoints(path: Path) -> dict[str, Any]:
    """Read ``path`` and return the validated keypoints document."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise InvalidKeypointsError(f"{path}: file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidKeypointsError(f"{path}: cannot be read as UTF-8 text ({exc})") from exc
    try:
        # Python's json accepts NaN/Infinity literals; reject them here so the message is precise.
        doc = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise InvalidKeypointsError(
            f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from exc
    return validate_keypoints(doc)


def _reject_constant(name: str) -> float:
    raise InvalidKeypointsError(f"non-finite number {name} in JSON (NaN and Infinity are not allowed)")


def validate_keypoints(doc: object) -> dict[str, Any]:
    """Check an already-parsed document against the schema; return it unchanged when valid."""
    if not isinstance(doc, dict):
        raise InvalidKeypointsError(f"top level must be a JSON object, got {_kind(doc)}")
    _positive_number(doc, "fps", "fps")
    _positive_int(doc, "width", "width")
    _positive_int(doc, "height", "height")
    frame_count = _non_negative_int(doc, "frame_count", "frame_count")
    names = _field(doc, "keypoint_names", "keypoint_names")
    if not isinstance(names, list) or tuple(names) != KEYPOINT_NAMES:
        raise InvalidKeypointsError(
            f"keypoint_names must be the {NUM_KEYPOINTS} COCO names in order {list(KEYPOINT_NAMES)}, "
            f"got {names!r}"
        )
    frames = _field(doc, "frames", "frames")
    if not isinstance(frames, list):
        raise InvalidKeypointsError(f"frames must be a list, got {_kind(frames)}")
    if len(frames) > frame_count:
        raise InvalidKeypointsError(f"frames has {len(frames)} entries but frame_count is {frame_count}")
    previous = -1
    for i, frame in enumerate(frames):
        previous = _validate_frame(frame, f"frames[{i}]", previous)
    return doc


def _validate_frame(frame: object, where: str, previous_index: int) -> int:
    if not isinstance(frame, dict):
        raise InvalidKeypointsError(f"{where} must be an object, got {_kind(frame)}")
    index = _non_negative_int(frame, "index", f"{where}.index")
    if index <= previous_index:
        raise InvalidKeypointsError(f"{where}.index is {index}, expected more than {previous_index}")
    t = _number(frame, "t", f"{where}.t")
    if t < 0:
        raise InvalidKeypointsError(f"{where}.t is {t}, expected a time >= 0")
    people = _field(frame, "people", f"{where}.people")
    if not isinstance(people, list):
        raise InvalidKeypointsError(f"{where}.people must be a list, got {_kind(people)}")
    for j, person in enumerate(people):
        _validate_person(person, f"{where}.people[{j}]")
    return index


def _validate_person(person: object, where: str) -> None:
    if not isinstance(person, dict):
        raise InvalidKeypointsError(f"{where} must be an object, got {_kind(person)}")
    track = _field(person, "track_id", f"{where}.track_id")
    if not (track is None or (isinstance(track, int) and not isinstance(track, bool))):
        raise InvalidKeypointsError(f"{where}.track_id must be an integer or null, got {track!r}")
    bbox = _field(person, "bbox", f"{where}.bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise InvalidKeypointsError(f"{where}.bbox must be a list of 4 numbers [x1, y1, x2, y2]")
    for k, value in enumerate(bbox):
        _check_finite(value, f"{where}.bbox[{k}]")
    score = _number(person, "score", f"{where}.score")
    if not 0.0 <= score <= 1.0:
        raise InvalidKeypointsError(f"{where}.score is {score}, expected 0..1")
    rows = _field(person, "keypoints", f"{where}.keypoints")
    if not isinstance(rows, list):
        raise InvalidKeypointsError(f"{where}.keypoints must be a list, got {_kind(rows)}")
    if len(rows) != NUM_KEYPOINTS:
        raise InvalidKeypointsError(f"{where}.keypoints has {len(rows)} rows, expected {NUM_KEYPOINTS}")
    for k, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != 3:
            raise InvalidKeypointsError(
                f"{where}.keypoints[{k}] ({KEYPOINT_NAMES[k]}) must be [x, y, confidence], got {row!r}"
            )
        for c, value in enumerate(row):
            _check_finite(value, f"{where}.keypoints[{k}][{c}] ({KEYPOINT_NAMES[k]})")


def _field(obj: dict[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise InvalidKeypointsError(f"missing field {where}")
    return obj[key]


def _check_finite(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidKeypointsError(f"{where} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InvalidKeypointsError(f"{where} is {value}, expected a finite number")
    return float(value)


def _number(obj: dict[str, Any], key: str, where: str) -> float:
    return _check_finite(_field(obj, key, where), where)


def _positive_number(obj: dict[str, Any], key: str, where: str) -> float:
    value = _number(obj, key, where)
    if value <= 0:
        raise InvalidKeypointsError(f"{where} is {value}, expected a positive number")
    return value


def _non_negative_int(obj: dict[str, Any], key: str, where: str) -> int:
    value = _field(obj, key, where)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidKeypointsError(f"{where} must be a non-negative integer, got {value!r}")
    return value


def _positive_int(obj: dict[str, Any], key: str, where: str) -> int:
    value = _non_negative_int(obj, key, where)
    if value == 0:
        raise InvalidKeypointsError(f"{where} must be a positive integer, got 0")
    return value


def _kind(value: object) -> str:
    return type(value).__name__
