"""Complete punches.json records for tests that need punches without running the detector."""

from __future__ import annotations

from shadow_trainer.documents.punches_document import Fighter, Hand, Punch, PunchType, Side


def punch(
    t: float,
    kind: PunchType = "jab",
    track: int = 1,
    speed: float = 5.0,
    *,
    hand: Hand = "left",
    side: Side = "lead",
    t_end: float | None = None,
    guard_dropped: bool | None = False,
    fps: float = 30.0,
) -> Punch:
    end = t + 0.2 if t_end is None else t_end
    return {
        "t": t, "frame": round(t * fps), "t_start": max(t - 0.2, 0.0), "t_end": end, "track_id": track,
        "hand": hand, "side": side, "type": kind, "confidence": 0.9, "peak_speed": speed,
        "guard_dropped": guard_dropped,
    }  # fmt: skip


def fighter(
    track_id: int, stance: str = "orthodox", confidence: float = 0.9, punches: int = 0, *, seen: float = 1.0
) -> Fighter:
    return {
        "track_id": track_id, "stance": stance, "stance_confidence": confidence, "punches": punches,
        "seen": seen, "stance_switches": [],
    }  # fmt: skip
