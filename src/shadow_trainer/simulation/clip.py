"""A whole simulated clip: boxer (+ optional second person) -> camera -> detector-like noise ->
a ``keypoints.json`` document and its ground-truth punch labels.

Mirrored clips are what a selfie camera records: the image is flipped and a pose model labels the
boxer's real right hand "left". The labels follow what is seen, so a mirrored orthodox boxer is
labelled southpaw with hands swapped; lead/rear and punch type do not change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shadow_trainer.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.keypoint_names import KEYPOINT_NAMES, NUM_KEYPOINTS
from shadow_trainer.simulation.body import Proportions
from shadow_trainer.simulation.camera import Camera, random_camera
from shadow_trainer.simulation.choreography import Script, make_script, punch_type
from shadow_trainer.simulation.motion import Style, simulate_3d

FloatArray = NDArray[np.float64]
VIEWS: dict[str, tuple[float, float]] = {"front": (0, 20), "three_quarter": (20, 60), "side": (60, 95)}
NOISE: dict[str, float] = {"low": 0.003, "medium": 0.007, "high": 0.013}  # jitter / person height
FPS_CHOICES = (24.0, 25.0, 30.0, 50.0, 60.0)
# Keypoints swapped by a mirror: every left_* with its right_*.
MIRROR_ORDER = [
    K[n.replace("left_", "right_") if n.startswith("left_") else n.replace("right_", "left_")]
    for n in KEYPOINT_NAMES
]


@dataclass(frozen=True)
class ClipConditions:
    view: str = "three_quarter"
    fps: float = 30.0
    noise: str = "low"
    dropout: float = 0.02  # fraction of keypoints reported with low confidence
    mirrored: bool = False
    second_person: bool = False
    stance: str = "orthodox"
    duration: float = 8.0
    punches: bool = True  # False: guard, feints, slips and footwork only


@dataclass(frozen=True)
class SimulatedClip:
    keypoints: dict[str, Any]  # keypoints.json document
    labels: dict[str, Any]  # {"stance", "duration", "punches": [{"t", "hand", "side", "type"}], "conditions"}


def random_conditions(rng: np.random.Generator) -> ClipConditions:
    return ClipConditions(
        view=str(rng.choice(list(VIEWS))),
        fps=float(rng.choice(FPS_CHOICES)),
        noise=str(rng.choice(list(NOISE), p=[0.4, 0.4, 0.2])),
        dropout=float(rng.uniform(0.0, 0.06)),
        mirrored=bool(rng.random() < 0.25),
        second_person=bool(rng.random() < 0.25),
        stance=str(rng.choice(["orthodox", "southpaw"])),
        duration=float(rng.uniform(4.0, 14.0)),
    )


def simulate_clip(seed: int, conditions: ClipConditions | None = None) -> SimulatedClip:
    """Deterministic for a given seed and conditions (random conditions when None)."""
    rng = np.random.default_rng(seed)
    cond = conditions if conditions is not None else random_conditions(rng)
    lead_is_left = cond.stance == "orthodox"
    script = make_script(rng, cond.duration, punches=cond.punches)
    props = Proportions().scaled(rng)
    main = simulate_3d(script, props, Style.random(rng), lead_is_left, cond.fps, rng)
    yaw = rng.uniform(*VIEWS[cond.view]) * rng.choice([-1.0, 1.0])
    centre = np.nanmean(main[:, [K["left_hip"], K["right_hip"]]], axis=(0, 1))
    camera = random_camera(rng, float(yaw), centre, 1.75 * props.torso / 0.52, float(rng.uniform(0.45, 0.9)))
    people = [_observe(main, camera, cond, rng)]
    if cond.second_person:
        people.append(_observe(_bystander(rng, cond, camera, centre), camera, cond, rng))
    doc = _document(people, camera, cond, rng)
    labels = _labels(script, cond, lead_is_left)
    labels["conditions"] = {**asdict(cond), "yaw_deg": round(float(yaw), 1)}
    return SimulatedClip(doc, labels)


def _bystander(
    rng: np.random.Generator, cond: ClipConditions, camera: Camera, centre: FloatArray
) -> FloatArray:
    """Someone beside and behind the boxer, moving (and punching) on their own."""
    other = replace(cond, stance=str(rng.choice(["orthodox", "southpaw"])))
    script = make_script(rng, cond.duration)
    pts = simulate_3d(
        script, Proportions().scaled(rng), Style.random(rng), other.stance == "orthodox", cond.fps, rng
    )
    angle = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    base = np.nanmean(pts[:, [K["left_hip"], K["right_hip"]]], axis=(0, 1))
    offset = camera.right * rng.choice([-1.0, 1.0]) * rng.uniform(1.3, 2.2) + camera.forward * rng.uniform(
        1.0, 3.0
    )
    offset[1] = 0.0
    return (pts - base * [1, 0, 1]) @ rot.T + centre * [1, 0, 1] + offset


def _observe(
    points: FloatArray, camera: Camera, cond: ClipConditions, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Projected keypoints with detector jitter, confidences and dropouts: ((T,17,2), (T,17))."""
    xy, depth = camera.project(points)
    height_px = np.nanpercentile(xy[..., 1].max(1) - xy[..., 1].min(1), 50)
    # Keypoints behind the body (far side in a side view) are guessed: noisier, less confident.
    hidden = depth - np.median(depth, axis=1, keepdims=True) > 0.12
    sigma = NOISE[cond.noise] * height_px * np.where(hidden, 1.6, 1.0)
    xy = xy + rng.normal(size=xy.shape) * sigma[..., None]
    conf = rng.uniform(0.6, 0.98, size=xy.shape[:2]) * np.where(hidden, 0.75, 1.0)
    dropped = rng.random(conf.shape) < cond.dropout
    conf = np.where(dropped, rng.uniform(0.0, 0.28, size=conf.shape), conf)
    xy = np.where(dropped[..., None], xy + rng.normal(size=xy.shape) * 0.1 * height_px, xy)
    if cond.mirrored:
        xy = np.stack([camera.width - xy[..., 0], xy[..., 1]], axis=-1)[:, MIRROR_ORDER]
        conf = conf[:, MIRROR_ORDER]
    return xy, conf


def _document(
    people: list[tuple[FloatArray, FloatArray]],
    camera: Camera,
    cond: ClipConditions,
    rng: np.random.Generator,
) -> dict[str, Any]:
    frames_total = people[0][0].shape[0]
    lost = _lost_frames(rng, frames_total)
    frames = []
    for i in range(frames_total):
        seen = (
            []
            if lost[i]
            else [_person(track + 1, xy[i], conf[i], rng) for track, (xy, conf) in enumerate(people)]
        )
        rng.shuffle(seen)  # detectors list people in no particular order
        frames.append({"index": i, "t": round(i / cond.fps, 5), "people": seen})
    return {
        "fps": cond.fps,
        "width": camera.width,
        "height": camera.height,
        "frame_count": frames_total,
        "keypoint_names": list(KEYPOINT_NAMES),
        "frames": frames,
    }


def _lost_frames(rng: np.random.Generator, n: int) -> NDArray[np.bool_]:
    lost = np.zeros(n, dtype=bool)
    for start in np.flatnonzero(rng.random(n) < 0.006):
        lost[start : start + rng.integers(1, 4)] = True
    return lost


def _person(track_id: int, xy: FloatArray, conf: FloatArray, rng: np.random.Generator) -> dict[str, Any]:
    good = conf >= 0.3
    ref = xy[good] if good.sum() >= 2 else xy
    x1, y1 = ref.min(0)
    x2, y2 = ref.max(0)
    pad_x, pad_y = 0.1 * (x2 - x1), 0.08 * (y2 - y1)
    return {
        "track_id": track_id,
        "bbox": [round(float(v), 2) for v in (x1 - pad_x, y1 - 1.5 * pad_y, x2 + pad_x, y2 + pad_y)],
        "score": round(float(rng.uniform(0.75, 0.95)), 3),
        "keypoints": [
            [round(float(x), 2), round(float(y), 2), round(float(c), 3)]
            for (x, y), c in zip(xy, conf, strict=True)
        ],
    }


def _labels(script: Script, cond: ClipConditions, lead_is_left: bool) -> dict[str, Any]:
    seen_lead_left = lead_is_left != cond.mirrored
    punches = []
    for action in script.punches():
        lead = action.role == "lead"
        punches.append(
            {
                "t": round(action.impact, 4),
                "hand": "left" if lead == seen_lead_left else "right",
                "side": action.role,
                "type": punch_type(action.role, action.kind),
            }
        )
    punches.sort(key=lambda p: p["t"])
    stance = "orthodox" if seen_lead_left else "southpaw"
    return {"stance": stance, "duration": cond.duration, "fps": cond.fps, "punches": punches}


assert len(MIRROR_ORDER) == NUM_KEYPOINTS
