"""Turning a script into 3D keypoints over time (T, 17, 3), in metres, in world coordinates."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from boxing_sim.body import UP, Proportions, assemble, limb_end, two_bone
from boxing_sim.choreography import ArmAction, BodyAction, Script

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Style:
    """Per-boxer habits: how bladed, where the hands rest, how much they sway."""

    blade: float  # shoulder-line rotation away from square, radians
    lead_guard: tuple[float, float, float]  # forward, lateral (lead side +), up from the neck
    rear_guard: tuple[float, float, float]
    sway: float  # amplitude of idle bouncing, metres
    sway_hz: float

    def raised(self, metres: float) -> Style:
        """The same habits with both hands held ``metres`` higher (negative: lower)."""
        lead, rear = self.lead_guard, self.rear_guard
        return replace(
            self,
            lead_guard=(lead[0], lead[1], lead[2] + metres),
            rear_guard=(rear[0], rear[1], rear[2] + metres),
        )

    @staticmethod
    def random(rng: np.random.Generator) -> Style:
        return Style(
            blade=rng.uniform(0.4, 0.75),
            lead_guard=(rng.uniform(0.24, 0.36), rng.uniform(0.08, 0.16), rng.uniform(0.03, 0.12)),
            rear_guard=(rng.uniform(0.13, 0.22), rng.uniform(-0.16, -0.08), rng.uniform(0.06, 0.14)),
            sway=rng.uniform(0.005, 0.03),
            sway_hz=rng.uniform(1.0, 2.2),
        )


@dataclass(frozen=True)
class Frame3D:
    """Boxer frame axes (unit vectors) and the positions every arm movement is built from."""

    fwd: FloatArray
    lat: FloatArray  # toward the lead side
    neck: FloatArray  # (T, 3)
    shoulders: dict[str, FloatArray]


def smoothstep(x: FloatArray) -> FloatArray:
    """Minimum-jerk 0->1 profile, the shape of fast human reaching movements."""
    x = np.clip(x, 0.0, 1.0)
    return x**3 * (10 - 15 * x + 6 * x**2)


def progress(action: ArmAction | BodyAction, t: FloatArray) -> FloatArray:
    """0 at rest, rising to 1 at full extension, holding, then back to 0."""
    if isinstance(action, BodyAction):
        return np.sin(np.pi * np.clip((t - action.start) / action.duration, 0.0, 1.0)) ** 2
    rise = smoothstep((t - action.start) / action.out)
    fall = smoothstep((t - action.impact - action.hold) / action.back)
    return rise * (1.0 - fall)


def simulate_3d(
    script: Script,
    props: Proportions,
    style: Style,
    lead_is_left: bool,
    fps: float,
    rng: np.random.Generator,
    twist_scale: float = 1.0,
) -> FloatArray:
    t = np.arange(round(script.duration * fps)) / fps
    fwd = np.array([0.0, 0.0, -1.0])
    lat = np.array([-1.0, 0.0, 0.0]) if lead_is_left else np.array([1.0, 0.0, 0.0])
    root, bob, lean = _whole_body(script, t, fwd, lat, style, rng)
    twist = _twist(script, t) * twist_scale
    hip_c = root + UP * (props.thigh + props.shin - 0.09 - bob)[:, None]
    lean_dir = UP + lean[:, :1] * fwd + lean[:, 1:] * lat
    neck = hip_c + props.torso * lean_dir / np.linalg.norm(lean_dir, axis=1, keepdims=True)
    frame = Frame3D(fwd, lat, neck, _girdle(neck, fwd, lat, props.shoulder_half * 0.98, style.blade - twist))
    joints: dict[str, FloatArray] = {"neck": neck}
    hips = _girdle(hip_c, fwd, lat, props.hip_half, 0.6 * (style.blade - twist))
    for role in ("lead", "rear"):
        joints[f"{role}_shoulder"] = frame.shoulders[role]
        wrist, pole = _arm_targets(script, t, role, frame, style, props)
        wrist = limb_end(frame.shoulders[role], wrist, props.upper_arm, props.forearm * 0.999)
        joints[f"{role}_wrist"] = wrist
        joints[f"{role}_elbow"] = two_bone(frame.shoulders[role], wrist, props.upper_arm, props.forearm, pole)
        joints[f"{role}_hip"] = hips[role]
        sign = 1.0 if role == "lead" else -1.0
        ankle = root + fwd * sign * 0.24 + lat * sign * 0.12
        joints[f"{role}_ankle"] = ankle
        knee_pole = np.broadcast_to(fwd + lat * sign * 0.3, ankle.shape)
        joints[f"{role}_knee"] = two_bone(hips[role], ankle, props.thigh, props.shin, knee_pole)
    head_fwd = np.broadcast_to(fwd, neck.shape) + lat * 0.1 * np.sin(twist)[:, None]
    return assemble(joints, head_fwd, lead_is_left, props.neck_to_nose)


def _girdle(
    centre: FloatArray, fwd: FloatArray, lat: FloatArray, half: float, blade: FloatArray | float
) -> dict[str, FloatArray]:
    # Blading turns the lead side toward the opponent.
    b = np.broadcast_to(np.asarray(blade, dtype=float), centre.shape[:1])[:, None]
    axis = lat * np.cos(b) + fwd * np.sin(b)
    return {"lead": centre + half * axis, "rear": centre - half * axis}


def _whole_body(
    script: Script, t: FloatArray, fwd: FloatArray, lat: FloatArray, style: Style, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Ground position of the stance centre, hip drop and (forward, lateral) lean over time."""
    phase = rng.uniform(0, 2 * np.pi, size=3)
    bob = style.sway * (1 + np.sin(2 * np.pi * style.sway_hz * t + phase[0]))
    lean = np.zeros((len(t), 2))
    lean[:, 0] = 0.12 + 0.03 * np.sin(2 * np.pi * 0.4 * t + phase[1])
    lean[:, 1] = 0.03 * np.sin(2 * np.pi * 0.3 * t + phase[2])
    shift = np.zeros((len(t), 2))
    for action in script.body:
        p = progress(action, t)
        if action.kind == "slip":
            lean[:, 1] += 0.35 * p * np.sign(action.direction[1] or 1.0)
            lean[:, 0] += 0.1 * p
        elif action.kind == "bob":
            bob = bob + 0.14 * p
            lean[:, 0] += 0.25 * p
        else:  # a step moves the stance for good
            done = np.clip((t - action.start) / action.duration, 0.0, 1.0)
            shift += 0.3 * np.outer(np.sin(np.pi / 2 * done) ** 2, action.direction)
    for punch in script.punches():  # the body leans into straights
        if punch.kind == "straight":
            lean[:, 0] += 0.12 * progress(punch, t)
    root = np.outer(shift[:, 0], fwd) + np.outer(shift[:, 1], lat)
    return root, bob, lean


def _twist(script: Script, t: FloatArray) -> FloatArray:
    """Torso rotation driven by punches: rear-hand punches square the shoulders, lead hooks turn in."""
    twist = np.zeros(len(t))
    amount = {
        ("rear", "straight"): 0.7,
        ("rear", "hook"): 0.8,
        ("rear", "uppercut"): 0.5,
        ("lead", "hook"): -0.35,
        ("lead", "straight"): -0.1,
        ("lead", "uppercut"): -0.2,
    }
    for a in script.arms:
        twist += amount.get((a.role, a.kind), 0.0) * a.amount * progress(a, t)
    return twist


def _arm_targets(
    script: Script, t: FloatArray, role: str, frame: Frame3D, style: Style, props: Proportions
) -> tuple[FloatArray, FloatArray]:
    """Wrist target and elbow pole direction over time for one arm."""
    g = style.lead_guard if role == "lead" else style.rear_guard
    guard = frame.neck + frame.fwd * g[0] + frame.lat * g[1] + UP * g[2]
    sign = 1.0 if role == "lead" else -1.0
    guard_pole = -UP + frame.lat * sign * 0.5 - frame.fwd * 0.3
    offset = np.zeros_like(guard)
    pole = np.broadcast_to(guard_pole, guard.shape).copy()
    weights = np.zeros(len(t))
    for action in (a for a in script.arms if a.role == role):
        p = progress(action, t)
        if not p.any():
            continue
        target, action_pole = _action_target(action, t, p, frame, guard, props, sign, role)
        # Straights and feints scale their reach themselves; hooks and uppercuts thrown short here.
        amount = 1.0 if action.kind in ("straight", "feint") else action.amount
        offset += p[:, None] * (target - guard) * amount
        pole += p[:, None] * (action_pole - guard_pole) * 1.5
        weights += p
    # Overlapping movements of one arm (double jab) share the arm instead of adding up.
    scale = np.maximum(weights, 1.0)[:, None]
    return guard + offset / scale, pole


def _action_target(
    action: ArmAction,
    t: FloatArray,
    p: FloatArray,
    frame: Frame3D,
    guard: FloatArray,
    props: Proportions,
    sign: float,
    role: str,
) -> tuple[FloatArray, FloatArray]:
    fwd, lat, neck = frame.fwd, frame.lat, frame.neck
    shoulder = frame.shoulders[role]
    # Curved paths: ``offset = p * (target - guard)`` so a bulge b must enter the target as b / p.
    bulge = (np.sin(np.pi * p) / np.maximum(p, 0.3))[:, None]
    if action.kind in ("straight", "feint"):
        aim = neck + fwd * 1.2 + UP * (0.04 - action.low) - lat * sign * 0.02
        direction = (aim - shoulder) / np.linalg.norm(aim - shoulder, axis=1, keepdims=True)
        full = shoulder + direction * (props.upper_arm + props.forearm) * 1.05
        target = guard + action.amount * (full - guard)
        return target, np.broadcast_to(-UP + lat * sign * 0.8, guard.shape)
    if action.kind == "hook":
        target = neck + fwd * 0.4 - lat * sign * 0.06 + UP * 0.03
        target = target + bulge * (lat * sign * 0.16 - fwd * 0.05)
        return target, np.broadcast_to(lat * sign * 1.0 + UP * 0.9 - fwd * 0.2, guard.shape)
    if action.kind == "uppercut":
        target = neck + fwd * 0.42 + lat * sign * 0.0 + UP * 0.08
        target = target - bulge * UP * 0.15
        return target, np.broadcast_to(-UP * 1.0 + fwd * 0.3 + lat * sign * 0.2, guard.shape)
    # A guard shift: the hand drifts to a nearby resting spot and back.
    drift = np.array([0.05, 0.04 * sign, -0.06])
    target = guard + fwd * drift[0] + lat * drift[1] + UP * drift[2]
    return target, np.broadcast_to(-UP + lat * sign * 0.5 - fwd * 0.3, guard.shape)
