"""Benchmark: the coaching analytics on simulated sessions with known combinations and rounds.

    uv run python bench/bench_analytics.py [--clips 60 --variety wide]

1. Combinations: each simulated clip's true punches give the true combinations; a true combination is
   found when the detector's punches give one with the same sequence starting within 0.25 s.
2. Rounds: the detector's punches of many clips laid end to end into two 3-minute rounds with a 1-minute
   rest: the found work/rest boundaries against the true ones (seconds off).
3. Speed: analytics of a 60-minute punch list, in ms per minute of video.

Targets (issue 15): combinations exact ≥ 0.9, boundaries within 2 s, < 50 ms per minute.
"""

from __future__ import annotations

import argparse
import time
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
        "t": t, "frame": 0, "t_start": t, "t_end": t, "track_id": 0, "hand": label["hand"],
        "side": label["side"], "type": label["type"], "confidence": 1.0, "peak_speed": 0.0,
        "guard_dropped": None,
    }  # fmt: skip


def detected(seed: int, variety: str | None) -> tuple[list[Punch], list[Punch], float]:
    """(true punches, the main fighter's detected punches, duration) of one simulated clip."""
    clip = simulate_clip(seed, variety=variety)
    result = classify_tracks(from_keypoints(validate_keypoints(clip.keypoints)))
    main = result["main_track_id"]
    truth = [true_punch(p) for p in clip.labels["punches"]]
    found: list[Punch] = [{**p, "track_id": 0} for p in result["punches"] if p["track_id"] == main]
    return truth, found, float(clip.labels["duration"])


def combo_exactness(truth: list[Punch], found: list[Punch]) -> tuple[int, int]:
    true_combos, found_combos = combos(truth)["combos"], combos(found)["combos"]
    hits = sum(
        any(
            f["sequence"] == c["sequence"] and abs(f["t_start"] - c["t_start"]) <= START_TOLERANCE_S
            for f in found_combos
        )
        for c in true_combos
    )
    return hits, len(true_combos)


def laid_out(clips: list[tuple[list[Punch], float]], periods: list[tuple[float, float]]) -> list[Punch]:
    """Detected punches of clips, one after the other, filling each work period."""
    punches: list[Punch] = []
    index = 0
    for start, end in periods:
        t = start
        while t < end:
            found, duration = clips[index % len(clips)]
            index += 1
            punches += [{**p, "t": t + p["t"]} for p in found if t + p["t"] < end]
            t += duration
    return punches


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clips", type=int, default=60)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--variety", choices=["wide"], default=None)
    args = parser.parse_args()
    hits = total = 0
    clips = []
    for i in range(args.clips):
        truth, found, duration = detected(clip_seed(args.seed, i), args.variety)
        h, n = combo_exactness(truth, found)
        hits, total = hits + h, total + n
        clips.append((found, duration))

    work = [(0.0, ROUND_S), (ROUND_S + REST_S, 2 * ROUND_S + REST_S)]
    segments = rounds(laid_out(clips, work), duration_s=work[-1][1])
    kinds = [s["kind"] for s in segments]
    off = (float("inf"), float("inf"))
    if kinds == ["work", "rest", "work"]:
        off = (abs(segments[0]["t_end"] - ROUND_S), abs(segments[2]["t_start"] - (ROUND_S + REST_S)))

    hour = laid_out(clips, [(0.0, 3600.0)])
    start = time.perf_counter()
    analytics(hour, 3600.0)
    ms_per_minute = (time.perf_counter() - start) * 1000 / 60

    print(f"{'measure':<44}{'value':>12}{'target':>10}")
    exact = f"{hits / max(total, 1):.3f}"
    print(f"{'combinations exact (true ones found)':<44}{exact:>12}{'≥ 0.90':>10}  ({hits}/{total})")
    print(f"{'segments found':<44}{'-'.join(kinds):>12}{'w-r-w':>10}")
    print(f"{'round end / next round start, s off':<44}{f'{off[0]:.1f} / {off[1]:.1f}':>12}{'≤ 2':>10}")
    print(
        f"{'analytics, ms per minute of video':<44}{ms_per_minute:>12.2f}{'< 50':>10}  ({len(hour)} punches)"
    )


if __name__ == "__main__":
    main()
