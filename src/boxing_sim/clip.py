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

from boxing_sim.body import Proportions
from boxing_sim.camera import Camera, random_camera
from boxing_sim.choreography import Script, make_script, punch_type
from boxing_sim.motion import Style, simulate_3d
from boxing_sim.variety import WIDE_FPS, Variety, random_variety
from shadow_trainer.pose.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.pose.keypoint_names import KEYPOINT_NAMES, NUM_KEYPOINTS

FloatArray = NDArray[np.float64]
VIEWS: dict[str, tuple[float, float]] = {"front": (0, 20), "three_quarter": (20, 60), "side": (60, 95)}
NOISE: dict[str, float] = {"low": 0.003, "medium": 0.007, "high": 0.013}  # jitter / person height
FPS_CHOICES = (24.0, 25.0, 30.0, 50.0, 60.0)
# A person is in the picture with this many keypoints at this confidence (wide clips).
MIN_SEEN_KEYPOINTS = 5
MIN_SEEN_CONFIDENCE = 0.3
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
    variety: str = "classic"  # "wide": see variety.py


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


def simulate_clip(
    seed: int, conditions: ClipConditions | None = None, *, variety: str | None = None
) -> SimulatedClip:
    """Deterministic for a given seed and conditions (random conditions when None).

    ``variety="wide"`` (or ``conditions.variety``) randomises the boxer, the punches and the camera far
    beyond the classic clips (see ``variety.py``); a classic clip is the same for a seed either way.
    """
    rng = np.random.default_rng(seed)
    cond = conditions if conditions is not None else random_conditions(rng)
    if variety is not None:
        cond = replace(cond, variety=variety)
    var = random_variety(np.random.default_rng([seed, 7])) if cond.variety == "wide" else Variety.classic()
    if var.rng is not None and conditions is None:
        cond = replace(cond, fps=float(var.rng.choice(WIDE_FPS)))
    lead_is_left = cond.stance == "orthodox"
    script = make_script(rng, cond.duration, punches=cond.punches, variety=var)
    props = Proportions().scaled(rng)
    style = Style.random(rng).raised(var.guard_up)
    main = simulate_3d(script, props, style, lead_is_left, cond.fps, rng, twist_scale=var.twist_scale)
    yaw = rng.uniform(*VIEWS[cond.view]) * rng.choice([-1.0, 1.0])
    centre = np.nanmean(main[:, [K["left_hip"], K["right_hip"]]], axis=(0, 1))
    fighters = [(main, script, lead_is_left)]
    aim = centre
    if var.opponent and var.rng is not None:
        yaw = float(var.rng.uniform(65, 100) * var.rng.choice([-1.0, 1.0]))
        fighters.append(_opponent(var.rng, cond, centre))
        aim = (centre + np.nanmean(fighters[1][0][:, [K["left_hip"], K["right_hip"]]], axis=(0, 1))) / 2
    camera = random_camera(rng, float(yaw), aim, 1.75 * props.torso / 0.52, float(rng.uniform(0.45, 0.9)))
    main_xy, main_depth = camera.project(main)
    lens = Lens.random(var, camera, main_xy, cond.fps)
    people = [_observe(lens.apply(main_xy), main_depth, lens, cond, rng)]
    people += [_observe_3d(f[0], camera, lens, cond, rng) for f in fighters[1:]]
    if cond.second_person:  # drawn after the boxer's jitter, as classic clips always were
        bystander = _bystander(rng, cond, camera, centre)
        fighters.append(bystander)
        people.append(_observe_3d(bystander[0], camera, lens, cond, rng))
    # Wide clips leave out people the picture does not show, and punches nobody could see.
    visible = (
        [(conf >= MIN_SEEN_CONFIDENCE).sum(axis=1) >= MIN_SEEN_KEYPOINTS for _, conf in people]
        if var.wide
        else None
    )
    doc = _document(people, lens.width, lens.height, cond, rng, visible)
    labels = _labels(fighters, cond, people if var.wide else None)
    labels["conditions"] = {**asdict(cond), "yaw_deg": round(float(yaw), 1), "variety": _describe(var)}
    return SimulatedClip(doc, labels)


def _describe(var: Variety) -> dict[str, Any]:
    if var.rng is None:
        return {"wide": False}
    return {"wide": True, **{k: v for k, v in asdict(var).items() if k != "rng"}}


def _opponent(
    rng: np.random.Generator, cond: ClipConditions, centre: FloatArray
) -> tuple[FloatArray, Script, bool]:
    """A second fighter in front of the boxer, facing them (sparring, pads), punching on their own."""
    lead_is_left = bool(rng.random() < 0.7)
    script = make_script(rng, cond.duration)
    pts = simulate_3d(script, Proportions().scaled(rng), Style.random(rng), lead_is_left, cond.fps, rng)
    base = np.nanmean(pts[:, [K["left_hip"], K["right_hip"]]], axis=(0, 1))
    turned = (pts - base * [1, 0, 1]) * [-1, 1, -1]  # half a turn about the vertical axis
    gap = rng.uniform(1.2, 2.2)  # the boxer faces -Z
    return turned + centre * [1, 0, 1] + np.array([rng.normal(0, 0.15), 0.0, -gap]), script, lead_is_left


def _bystander(
    rng: np.random.Generator, cond: ClipConditions, camera: Camera, centre: FloatArray
) -> tuple[FloatArray, Script, bool]:
    """Someone beside and behind the boxer, moving (and punching) on their own."""
    other = replace(cond, stance=str(rng.choice(["orthodox", "southpaw"])))
    script = make_script(rng, cond.duration)
    lead_is_left = other.stance == "orthodox"
    pts = simulate_3d(script, Proportions().scaled(rng), Style.random(rng), lead_is_left, cond.fps, rng)
    angle = rng.uniform(0, 2 * np.pi)
    rot = np.array([[np.cos(angle), 0, np.sin(angle)], [0, 1, 0], [-np.sin(angle), 0, np.cos(angle)]])
    base = np.nanmean(pts[:, [K["left_hip"], K["right_hip"]]], axis=(0, 1))
    offset = camera.right * rng.choice([-1.0, 1.0]) * rng.uniform(1.3, 2.2) + camera.forward * rng.uniform(
        1.0, 3.0
    )
    offset[1] = 0.0
    return (pts - base * [1, 0, 1]) @ rot.T + centre * [1, 0, 1] + offset, script, lead_is_left


@dataclass(frozen=True)
class Lens:
    """What happens to the picture after projection: zoom to a framing, roll, shake, low resolution."""

    width: int
    height: int
    scale: float  # zoom about ``centre`` times the resolution change
    centre: tuple[float, float]  # zoom centre in the camera image
    target: tuple[float, float]  # where ``centre`` lands in the output image
    roll: float  # radians
    shake: FloatArray  # (T, 2) pixel offsets in the output image
    pixel_noise: float  # detector jitter floor in output pixels (small pictures)

    @staticmethod
    def random(var: Variety, camera: Camera, main_xy: FloatArray, fps: float) -> Lens:
        frames = main_xy.shape[0]
        if var.rng is None:
            centre = (camera.width / 2, camera.height / 2)
            return Lens(camera.width, camera.height, 1.0, centre, centre, 0.0, np.zeros((frames, 2)), 0.0)
        rng = var.rng
        width, height = var.resolution or (camera.width, camera.height)
        resize = height / camera.height
        neck = np.nanmedian((main_xy[:, K["left_shoulder"]] + main_xy[:, K["right_shoulder"]]) / 2, axis=0)
        person = float(np.nanpercentile(main_xy[..., 1].max(1) - main_xy[..., 1].min(1), 50))
        zoom, target_y = 1.0, None
        if var.framing == "upper_body":  # the picture ends around the waist or the thighs
            zoom, target_y = rng.uniform(1.05, 1.6) * camera.height / max(person, 1.0), rng.uniform(0.3, 0.45)
        elif var.framing == "head_cut":
            zoom, target_y = rng.uniform(0.9, 1.3) * camera.height / max(person, 1.0), rng.uniform(0.1, 0.25)
        zoom = max(zoom, 1.0)
        target = (
            width / 2 + rng.normal(0, 0.08) * width,
            (target_y if target_y is not None else 0.5) * height,
        )
        centre = (
            (float(neck[0]), float(neck[1]))
            if target_y is not None
            else (camera.width / 2, camera.height / 2)
        )
        if target_y is None:
            target = (width / 2, height / 2)
        t = np.arange(frames) / fps
        phase = rng.uniform(0, 2 * np.pi, size=4)
        shake = var.shake * height * np.column_stack(
            [np.sin(2 * np.pi * 1.7 * t + phase[0]) + 0.5 * np.sin(2 * np.pi * 4.3 * t + phase[1]),
             np.sin(2 * np.pi * 1.3 * t + phase[2]) + 0.5 * np.sin(2 * np.pi * 3.7 * t + phase[3])]
        )  # fmt: skip
        noise = 0.8 if var.resolution is not None else 0.0
        return Lens(
            int(width), int(height), zoom * resize, centre, target, np.radians(var.roll_deg), shake, noise
        )

    def apply(self, xy: FloatArray) -> FloatArray:
        c, s = np.cos(self.roll), np.sin(self.roll)
        rel = (xy - np.asarray(self.centre)) * self.scale
        turned = np.stack([c * rel[..., 0] - s * rel[..., 1], s * rel[..., 0] + c * rel[..., 1]], axis=-1)
        return turned + np.asarray(self.target) + self.shake[:, None, :]

    def outside(self, xy: FloatArray) -> NDArray[np.bool_]:
        return (xy[..., 0] < 0) | (xy[..., 0] >= self.width) | (xy[..., 1] < 0) | (xy[..., 1] >= self.height)


def _observe_3d(
    points: FloatArray, camera: Camera, lens: Lens, cond: ClipConditions, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    xy, depth = camera.project(points)
    return _observe(lens.apply(xy), depth, lens, cond, rng)


def _observe(
    xy: FloatArray, depth: FloatArray, lens: Lens, cond: ClipConditions, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Keypoints in the output picture with detector jitter, confidences and dropouts."""
    height_px = np.nanpercentile(xy[..., 1].max(1) - xy[..., 1].min(1), 50)
    # Keypoints behind the body (far side in a side view) are guessed: noisier, less confident.
    hidden = depth - np.median(depth, axis=1, keepdims=True) > 0.12
    sigma = np.hypot(NOISE[cond.noise] * height_px, lens.pixel_noise) * np.where(hidden, 1.6, 1.0)
    xy = xy + rng.normal(size=xy.shape) * sigma[..., None]
    conf = rng.uniform(0.6, 0.98, size=xy.shape[:2]) * np.where(hidden, 0.75, 1.0)
    dropped = rng.random(conf.shape) < cond.dropout
    conf = np.where(dropped, rng.uniform(0.0, 0.28, size=conf.shape), conf)
    xy = np.where(dropped[..., None], xy + rng.normal(size=xy.shape) * 0.1 * height_px, xy)
    if lens.scale != 1.0 or lens.roll or lens.pixel_noise:
        # Out of the picture: the pose model guesses, with low confidence, near the border.
        off = lens.outside(xy)
        conf = np.where(off, rng.uniform(0.0, 0.25, size=conf.shape), conf)
        xy = np.stack([np.clip(xy[..., 0], 0, lens.width - 1), np.clip(xy[..., 1], 0, lens.height - 1)], -1)
    if cond.mirrored:
        xy = np.stack([lens.width - xy[..., 0], xy[..., 1]], axis=-1)[:, MIRROR_ORDER]
        conf = conf[:, MIRROR_ORDER]
    return xy, conf


def _document(
    people: list[tuple[FloatArray, FloatArray]],
    width: int,
    height: int,
    cond: ClipConditions,
    rng: np.random.Generator,
    visible: list[NDArray[np.bool_]] | None = None,
) -> dict[str, Any]:
    frames_total = people[0][0].shape[0]
    lost = _lost_frames(rng, frames_total)
    frames = []
    for i in range(frames_total):
        seen = (
            []
            if lost[i]
            else [
                _person(track + 1, xy[i], conf[i], rng)
                for track, (xy, conf) in enumerate(people)
                if visible is None or visible[track][i]
            ]
        )
        rng.shuffle(seen)  # detectors list people in no particular order
        frames.append({"index": i, "t": round(i / cond.fps, 5), "people": seen})
    return {
        "fps": cond.fps,
        "width": width,
        "height": height,
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


def _labels(
    fighters: list[tuple[FloatArray, Script, bool]],
    cond: ClipConditions,
    people: list[tuple[FloatArray, FloatArray]] | None = None,
) -> dict[str, Any]:
    """Every fighter's punches (track ids follow the order of ``fighters``) and the boxer's stance.
    With ``people`` (what the picture shows), a punch counts only when its arm is in the picture."""
    punches: list[dict[str, Any]] = []
    stances: list[dict[str, Any]] = []
    for track, (_, script, lead_is_left) in enumerate(fighters, start=1):
        seen_lead_left = lead_is_left != cond.mirrored
        stances.append({"track_id": track, "stance": "orthodox" if seen_lead_left else "southpaw"})
        for action in script.punches():
            lead = action.role == "lead"
            hand = "left" if lead == seen_lead_left else "right"
            if people is not None and not _arm_seen(people[track - 1][1], hand, action.impact, cond.fps):
                continue
            punches.append(
                {
                    "t": round(action.impact, 4),
                    "track_id": track,
                    "hand": hand,
                    "side": action.role,
                    "type": punch_type(action.role, action.kind),
                }
            )
    punches.sort(key=lambda p: p["t"])
    return {
        "stance": stances[0]["stance"],
        "fighters": stances,
        "duration": cond.duration,
        "fps": cond.fps,
        "punches": punches,
    }


def _arm_seen(conf: FloatArray, hand: str, t: float, fps: float) -> bool:
    frame = min(round(t * fps), len(conf) - 1)
    joints = [K[f"{hand}_{part}"] for part in ("shoulder", "elbow", "wrist")]
    return bool((conf[frame, joints] >= MIN_SEEN_CONFIDENCE).all())


assert len(MIRROR_ORDER) == NUM_KEYPOINTS
