"""Benchmark: the coaching analytics on simulated sessions with known combinations and rounds.

    uv run python bench/bench_analytics.py [--clips 60 --variety wide]

1. Combinations: each simulated fighter's true punches give the true combinations; a true combination is
   found when the detector's punches of that fighter give one with the same sequence starting within
   0.25 s. Everyone's, and the boxer's (track 1) alone.
2. Rounds: the detector's punches and boxing time (guard up or punching) of many clips laid end to end
   into two 3-minute rounds with a 1-minute rest: the found work/rest boundaries against the true ones
   (seconds off), beside the same from the punches alone.
3. Speed: analytics of a 60-minute punch list, in ms per minute of video.

Targets (issue 15): combinations exact ≥ 0.9, boundaries within 2 s, < 50 ms per minute.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from boxing_sim import clip_seed, simulate_clip
from shadow_trainer.documents.punches_document import Punch
from shadow_trainer.punches import classify_tracks, validate_keypoints
from shadow_trainer.punches.analytics import analytics, combos, rounds
from shadow_trainer.tracking.series import from_keypoints

START_TOLERANCE_S = 0.25
ROUND_S, REST_S = 180.0, 60.0


def true_punch(label: dict[str, Any]) -> Punch:
    """A simulated label as a punches.json record (only its time, type, hand and side are known)."""
    t = float(label["t"])
    return {
        "t": t, "frame": 0, "t_start": t, "t_end": t, "track_id": int(label.get("track_id", 1)),
        "hand": label["hand"],
        "side": label["side"], "type": label["type"], "confidence": 1.0, "peak_speed": 0.0,
        "guard_dropped": None,
    }  # fmt: skip


@dataclass(frozen=True)
class Detected:
    """What the analysis made of one simulated clip's main fighter."""

    punches: list[Punch]
    active: list[list[float]]  # boxing time (guard up or punching)
    duration: float


def detected(seed: int, variety: str | None) -> tuple[list[Punch], list[Punch], Detected]:
    """(true punches, detected punches: everyone's, with the simulator's track ids; what the analysis
    found of the main fighter) of one simulated clip."""
    clip = simulate_clip(seed, variety=variety)
    result = classify_tracks(from_keypoints(validate_keypoints(clip.keypoints)))
    main_id = result["main_track_id"]
    main = next((f for f in result["fighters"] if f["track_id"] == main_id), None)
    truth = [true_punch(p) for p in clip.labels["punches"]]
    mains = [p for p in result["punches"] if p["track_id"] == main_id]
    active = main.get("active", []) if main else []
    return truth, result["punches"], Detected(mains, active, float(clip.labels["duration"]))


def combo_exactness(truth: list[Punch], found: list[Punch]) -> tuple[int, int]:
    """(true combinations found, true combinations): one fighter's, the same sequence, starting
    within START_TOLERANCE_S (the simulator and the analysis share track ids)."""
    true_combos, found_combos = combos(truth)["combos"], combos(found)["combos"]
    hits = sum(
        any(
            f["track_id"] == c["track_id"]
            and f["sequence"] == c["sequence"]
            and abs(f["t_start"] - c["t_start"]) <= START_TOLERANCE_S
            for f in found_combos
        )
        for c in true_combos
    )
    return hits, len(true_combos)


def laid_out(
    clips: list[Detected], periods: list[tuple[float, float]]
) -> tuple[list[Punch], list[list[float]]]:
    """Detected punches and boxing time of clips, one after the other, filling each work period."""
    punches: list[Punch] = []
    active: list[list[float]] = []
    index = 0
    for start, end in periods:
        t = start
        while t < end:
            clip = clips[index % len(clips)]
            index += 1
            punches += [{**p, "t": t + p["t"]} for p in clip.punches if t + p["t"] < end]
            active += [[t + a, min(t + b, end)] for a, b in clip.active if t + a < end]
            t += clip.duration
    return punches, active


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clips", type=int, default=60)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--variety", choices=["wide"], default=None)
    args = parser.parse_args()
    exact = {"everyone": [0, 0], "the boxer (track 1)": [0, 0]}
    clips = []
    for i in range(args.clips):
        truth, found, main = detected(clip_seed(args.seed, i), args.variety)
        for who, keep in (
            ("everyone", lambda p: True),
            ("the boxer (track 1)", lambda p: p["track_id"] == 1),
        ):
            hits, total = combo_exactness([p for p in truth if keep(p)], [p for p in found if keep(p)])
            exact[who][0] += hits
            exact[who][1] += total
        clips.append(main)

    print(f"{'measure':<44}{'value':>12}{'target':>10}")
    for who, (hits, total) in exact.items():
        label = f"combinations exact, {who}"
        print(f"{label:<44}{hits / max(total, 1):>12.3f}{'≥ 0.90':>10}  ({hits}/{total})")
    work = [(0.0, ROUND_S), (ROUND_S + REST_S, 2 * ROUND_S + REST_S)]
    punches, active = laid_out(clips, work)
    for basis, segments in (
        ("punches and boxing time", rounds(punches, work[-1][1], active)),
        ("punches alone", rounds(punches, work[-1][1])),
    ):
        kinds = [s["kind"] for s in segments]
        off = (float("inf"), float("inf"))
        if kinds == ["work", "rest", "work"]:
            off = (abs(segments[0]["t_end"] - ROUND_S), abs(segments[2]["t_start"] - (ROUND_S + REST_S)))
        print(f"{f'segments found ({basis})':<44}{'-'.join(kinds):>12}{'w-r-w':>10}")
        print(f"{'  round end / next round start, s off':<44}{f'{off[0]:.1f} / {off[1]:.1f}':>12}{'≤ 2':>10}")

    hour, hour_active = laid_out(clips, [(0.0, 3600.0)])
    start = time.perf_counter()
    analytics(hour, 3600.0, hour_active)
    ms_per_minute = (time.perf_counter() - start) * 1000 / 60
    print(
        f"{'analytics, ms per minute of video':<44}{ms_per_minute:>12.2f}{'< 50':>10}  ({len(hour)} punches)"
    )


if __name__ == "__main__":
    main()
