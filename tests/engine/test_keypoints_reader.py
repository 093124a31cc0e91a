"""load_keypoints / validate_keypoints: valid documents pass, every malformation names its place."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from shadow_trainer.errors import InvalidKeypointsError
from shadow_trainer.pose.keypoint_names import KEYPOINT_NAMES
from shadow_trainer.punches import load_keypoints, validate_keypoints


def _doc() -> dict[str, Any]:
    person = {
        "track_id": 1,
        "bbox": [10.0, 20.0, 110.0, 320.0],
        "score": 0.9,
        "keypoints": [[50.0 + i, 60.0 + i, 0.9] for i in range(17)],
    }
    frames = [{"index": i, "t": i / 30, "people": [copy.deepcopy(person)]} for i in range(3)]
    return {
        "fps": 30.0,
        "width": 640,
        "height": 480,
        "frame_count": 3,
        "keypoint_names": list(KEYPOINT_NAMES),
        "frames": frames,
    }


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "keypoints.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_document_round_trips(tmp_path: Path) -> None:
    doc = _doc()
    assert load_keypoints(_write(tmp_path, json.dumps(doc))) == doc


def test_frame_with_nobody_is_valid() -> None:
    doc = _doc()
    doc["frames"][1]["people"] = []
    assert validate_keypoints(doc) is doc


def test_malformed_json(tmp_path: Path) -> None:
    with pytest.raises(InvalidKeypointsError, match="malformed JSON at line 1"):
        load_keypoints(_write(tmp_path, '{"fps": 30,'))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidKeypointsError, match="not found"):
        load_keypoints(tmp_path / "nope.json")


def test_nan_literal_in_file(tmp_path: Path) -> None:
    text = json.dumps(_doc()).replace("50.0", "NaN", 1)
    with pytest.raises(InvalidKeypointsError, match="NaN"):
        load_keypoints(_write(tmp_path, text))


def test_error_code_is_invalid_keypoints() -> None:
    with pytest.raises(InvalidKeypointsError) as info:
        validate_keypoints([])
    assert info.value.code == "invalid_keypoints"
    assert "top level must be a JSON object" in str(info.value)


def _mutated(path: str, value: Any) -> dict[str, Any]:
    """A valid document with the field at dotted ``path`` replaced (or deleted when value is ...)."""
    doc = _doc()
    *parents, last = path.split(".")
    target: Any = doc
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    key: Any = int(last) if last.isdigit() else last
    if value is ...:
        del target[key]
    else:
        target[key] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "frames.2.people.0.keypoints",
            [[1.0, 2.0, 0.5]] * 15,
            r"frames\[2\].people\[0\].keypoints has 15 rows, expected 17",
        ),
        (
            "frames.1.people.0.keypoints.9",
            [1.0, float("nan"), 0.9],
            r"frames\[1\].people\[0\].keypoints\[9\]\[1\] \(left_wrist\) is nan",
        ),
        (
            "frames.0.people.0.keypoints.3",
            [1.0, 2.0],
            r"keypoints\[3\] \(left_ear\) must be \[x, y, confidence\]",
        ),
        ("frames.0.people.0.bbox", [1.0, 2.0, 3.0], r"frames\[0\].people\[0\].bbox must be a list of 4"),
        ("frames.0.people.0.bbox.2", float("inf"), r"bbox\[2\] is inf"),
        ("frames.0.people.0.score", 1.5, "score is 1.5"),
        ("frames.0.people.0.keypoints", ..., r"missing field frames\[0\].people\[0\].keypoints"),
        ("frames.1.people", ..., r"missing field frames\[1\].people"),
        ("frames.1.index", 0, r"frames\[1\].index is 0"),
        ("fps", 0, "fps is 0"),
        ("fps", ..., "missing field fps"),
        ("width", "640", "width must be a non-negative integer"),
        ("frame_count", 2, "frames has 3 entries but frame_count is 2"),
        ("frames", {}, "frames must be a list"),
        ("keypoint_names", list(reversed(KEYPOINT_NAMES)), "keypoint_names must be the 17 COCO names"),
        ("keypoint_names", list(KEYPOINT_NAMES[:15]), "keypoint_names must be the 17 COCO names"),
    ],
)
def test_bad_documents_name_the_problem(path: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidKeypointsError, match=message):
        validate_keypoints(_mutated(path, value))
