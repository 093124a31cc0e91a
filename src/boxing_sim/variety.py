"""How far a simulated clip strays from the textbook boxer: the "wide" randomisation.

Real punches differ from the classic simulator's: slower or much faster, held at extension or
thrown short and partial, to the body, from low or high guards, stepping in, with more or less
torso rotation, in non-stop drills; cameras roll and shake, frame only the upper body or cut the
head, film at 160×120 or at 10 fps, or film two fighters side-on facing each other. A ``Variety``
draws all of that per clip from its own random stream, so classic clips (``Variety.classic()``)
stay exactly what they were for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WIDE_FPS = (10.0, 12.0, 15.0, 24.0, 25.0, 30.0, 50.0, 60.0)
FRAMINGS = ("full_body", "upper_body", "head_cut")
LOW_RESOLUTIONS = ((160, 120), (320, 240))
OUT_RANGE_S = (0.08, 0.5)
MAX_HOLD_S = 0.4


@dataclass(frozen=True)
class Variety:
    rng: np.random.Generator | None  # None: classic, nothing is varied
    speed: float = 1.0  # clip-wide factor on every punch's out time
    hold_share: float = 0.0  # share of punches held at extension (0–0.4 s)
    partial_min: float = 1.0  # punches reach this fraction of full extension at least
    body_shots: float = 0.0  # share of straights aimed at the body
    step_in: float = 0.0  # share of straights thrown while stepping in
    drills: float = 0.0  # share of events that are non-stop straight-punch drills
    twist_scale: float = 1.0  # torso rotation into punches
    guard_up: float = 0.0  # guard higher (+) or lower (-) than the classic one, metres
    roll_deg: float = 0.0  # camera roll
    shake: float = 0.0  # camera shake, share of the image height
    framing: str = "full_body"
    resolution: tuple[int, int] | None = None  # a low resolution replacing the camera's
    opponent: bool = False  # a second fighter facing the boxer, filmed side-on

    @staticmethod
    def classic() -> Variety:
        return Variety(None)

    @property
    def wide(self) -> bool:
        return self.rng is not None

    def punch_timing(self, out: float, hold: float) -> tuple[float, float, float]:
        """(out, hold, amount) of one punch from the classic draws."""
        if self.rng is None:
            return out, hold, 1.0
        out = float(np.clip(out * self.speed * self.rng.lognormal(0.0, 0.25), *OUT_RANGE_S))
        if self.rng.random() < self.hold_share:
            hold = float(self.rng.uniform(0.05, MAX_HOLD_S))
        return out, hold, float(self.rng.uniform(self.partial_min, 1.0))

    def chance(self, share: float) -> bool:
        return self.rng is not None and bool(self.rng.random() < share)


def random_variety(rng: np.random.Generator) -> Variety:
    return Variety(
        rng,
        speed=float(np.exp(rng.uniform(np.log(0.5), np.log(1.8)))),
        hold_share=float(rng.choice([0.0, 0.2, 0.6])),
        partial_min=float(rng.uniform(0.45, 1.0)),
        body_shots=float(rng.uniform(0.0, 0.3)),
        step_in=float(rng.uniform(0.0, 0.4)),
        drills=float(rng.choice([0.0, 0.0, 0.3, 0.8])),
        twist_scale=float(rng.uniform(0.4, 1.8)),
        guard_up=float(rng.uniform(-0.22, 0.1)),
        roll_deg=float(rng.normal(0.0, 6.0)),
        shake=float(rng.choice([0.0, 0.005, 0.02])),
        framing=str(rng.choice(FRAMINGS, p=[0.5, 0.35, 0.15])),
        resolution=LOW_RESOLUTIONS[int(rng.integers(len(LOW_RESOLUTIONS)))] if rng.random() < 0.3 else None,
        opponent=bool(rng.random() < 0.25),
    )
