"""What the simulated boxer does and when: punches in combinations, feints, guard shifts, slips,
bobs and footwork, drawn at random with realistic timing. Also the ground-truth punch labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from boxing_sim.variety import Variety

# Combination codes: 1 jab, 2 cross, 3 lead hook, 4 rear hook, 5 lead uppercut, 6 rear uppercut.
CODES: dict[int, tuple[str, str]] = {
    1: ("lead", "straight"),
    2: ("rear", "straight"),
    3: ("lead", "hook"),
    4: ("rear", "hook"),
    5: ("lead", "uppercut"),
    6: ("rear", "uppercut"),
}
COMBOS: tuple[tuple[int, ...], ...] = (
    (1,), (2,), (1, 2), (1, 1), (1, 1, 2), (1, 2, 3), (1, 2, 3, 2), (3,), (4,), (5,), (6,),
    (1, 6, 3), (2, 3, 2), (1, 2, 5, 2), (3, 2), (6, 3), (1, 4), (5, 4), (3, 6), (2, 5),
)  # fmt: skip
# Seconds from start to full extension, per kind.
OUT_TIME: dict[str, tuple[float, float]] = {
    "straight": (0.14, 0.26),
    "hook": (0.2, 0.3),
    "uppercut": (0.18, 0.3),
    "feint": (0.1, 0.16),
}


@dataclass(frozen=True)
class ArmAction:
    """One outward-and-back movement of one arm."""

    role: str  # "lead" / "rear"
    kind: str  # "straight" / "hook" / "uppercut" / "feint" / "guard"
    start: float
    out: float  # seconds to full extension
    hold: float
    back: float  # seconds to return to guard
    amount: float = 1.0  # fraction of the full movement (feints stop part way)
    low: float = 0.0  # how far below head height a straight is aimed (body shots), metres

    @property
    def impact(self) -> float:
        return self.start + self.out


@dataclass(frozen=True)
class BodyAction:
    """A whole-body movement: "slip", "bob" or "step", with a direction in the boxer's frame."""

    kind: str
    start: float
    duration: float
    direction: tuple[float, float]  # (forward, lead-lateral) for slips and steps


@dataclass
class Script:
    duration: float
    arms: list[ArmAction] = field(default_factory=list)
    body: list[BodyAction] = field(default_factory=list)

    def punches(self) -> list[ArmAction]:
        return [a for a in self.arms if a.kind in ("straight", "hook", "uppercut")]


def punch_type(role: str, kind: str) -> str:
    if kind == "straight":
        return "jab" if role == "lead" else "cross"
    return kind


def make_script(
    rng: np.random.Generator, duration: float, *, punches: bool = True, variety: Variety | None = None
) -> Script:
    """A random script filling ``duration`` seconds; ``punches=False`` gives only non-punch motion."""
    variety = variety or Variety.classic()
    script = Script(duration)
    t = rng.uniform(0.3, 0.8)
    while True:
        if punches and variety.chance(variety.drills):
            end = _add_drill(variety, script, t, duration)
        else:
            event = _pick_event(rng, punches)
            end = _add_event(rng, script, event, t, variety)
        t = end + rng.uniform(0.35, 1.2)
        if t > duration - 0.8:
            break
    return script


def _pick_event(rng: np.random.Generator, punches: bool) -> str:
    events = ["combo", "feint", "guard", "slip", "bob", "step"]
    weights = np.array([0.55, 0.12, 0.08, 0.09, 0.07, 0.09])
    if not punches:
        weights[0] = 0.0
    return str(rng.choice(events, p=weights / weights.sum()))


def _add_event(rng: np.random.Generator, script: Script, event: str, t: float, variety: Variety) -> float:
    if event == "combo":
        return _add_combo(rng, script, COMBOS[rng.integers(len(COMBOS))], t, variety)
    if event == "feint":
        role = "lead" if rng.random() < 0.65 else "rear"
        action = ArmAction(
            role,
            "feint",
            t,
            rng.uniform(*OUT_TIME["feint"]),
            rng.uniform(0.0, 0.08),
            rng.uniform(0.15, 0.3),
            amount=rng.uniform(0.2, 0.4),
        )
        script.arms.append(action)
        return action.impact + action.hold + action.back
    if event == "guard":
        role = "lead" if rng.random() < 0.5 else "rear"
        action = ArmAction(
            role, "guard", t, rng.uniform(0.4, 0.8), rng.uniform(0.2, 1.0), rng.uniform(0.4, 0.8)
        )
        script.arms.append(action)
        return action.impact + action.hold + action.back
    duration = {
        "slip": rng.uniform(0.35, 0.6),
        "bob": rng.uniform(0.5, 0.8),
        "step": rng.uniform(0.25, 0.45),
    }[event]
    angle = rng.uniform(0, 2 * np.pi)
    script.body.append(BodyAction(event, t, duration, (float(np.cos(angle)), float(np.sin(angle)))))
    return t + duration


def _add_combo(
    rng: np.random.Generator, script: Script, combo: tuple[int, ...], t: float, variety: Variety
) -> float:
    previous: ArmAction | None = None
    for code in combo:
        role, kind = CODES[code]
        if previous is not None:
            same_arm = previous.role == role
            # The next punch leaves as the previous one lands; the same arm must first come back part way.
            gap = previous.hold + rng.uniform(0.12, 0.2) if same_arm else rng.uniform(0.0, 0.1)
            t = previous.impact + gap
        out = rng.uniform(*OUT_TIME[kind])
        if role == "rear" and kind == "straight":
            out += 0.02  # the cross travels further
        out, hold, amount = variety.punch_timing(out, rng.uniform(0.0, 0.05))
        low = 0.3 if kind == "straight" and variety.chance(variety.body_shots) else 0.0
        action = ArmAction(role, kind, t, out, hold, rng.uniform(0.18, 0.32), amount=amount, low=low)
        script.arms.append(action)
        if kind == "straight" and variety.chance(variety.step_in):
            script.body.append(BodyAction("step", t, out + 0.05, (1.0, 0.0)))
        previous = action
    assert previous is not None
    return previous.impact + previous.hold + previous.back


def _add_drill(variety: Variety, script: Script, t: float, duration: float) -> float:
    """Non-stop alternating straights, short and quick (bag or shadow drills, the KTH clips)."""
    rng = variety.rng
    assert rng is not None
    interval = rng.uniform(0.18, 0.5)
    amount_lo = rng.uniform(0.35, 0.8)
    role = "lead"
    end = t
    for _ in range(int(rng.integers(4, 16))):
        if t > duration - 0.8:
            break
        out = min(rng.uniform(0.08, 0.2), 0.8 * interval)
        action = ArmAction(role, "straight", t, out, rng.uniform(0.0, 0.04), rng.uniform(0.1, 0.22),
                           amount=rng.uniform(amount_lo, 1.0))  # fmt: skip
        script.arms.append(action)
        end = action.impact + action.hold + action.back
        t += interval * rng.uniform(0.85, 1.15)
        role = "rear" if role == "lead" else "lead"
    return end
