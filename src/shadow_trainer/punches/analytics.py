"""Coaching figures from a fighter's punches: combinations, work/rest segments, output over time, speed.

All from `punches.json` alone (times, types, `peak_speed`, and each fighter's boxing time for the
work/rest segments), so they are as good as the punches are; definitions and limits in the punches
README ("Coaching analytics").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, TypedDict

from shadow_trainer.documents.punches_document import PUNCH_TYPES, Punch
from shadow_trainer.documents.summary_document import Coaching

COMBO_GAP_S = 0.6  # punches at most this far apart (impact to impact) belong to one combination
REST_GAP_S = 30.0  # no boxing for this long is a rest: a round's pause in action is shorter, a break longer
PUNCH_MARGIN_S = 1.0  # a punch is boxing time this long either side: a round's last punch is not its edge
TIMELINE_BIN_S = 10.0
TOP_COMBOS = 5


class Combos(TypedDict):
    combos: list[dict[str, Any]]
    top_combos: list[dict[str, Any]]


def combos(punches: Sequence[Punch]) -> Combos:
    """Runs of ≥ 2 punches of one fighter, each ≤ COMBO_GAP_S after the one before."""
    runs: list[list[Punch]] = []
    by_fighter: dict[int, list[Punch]] = {}
    for punch in sorted(punches, key=lambda p: p["t"]):
        by_fighter.setdefault(punch.get("track_id"), []).append(punch)
    for thrown in by_fighter.values():
        run = [thrown[0]]
        for punch in thrown[1:]:
            if punch["t"] - run[-1]["t"] <= COMBO_GAP_S:
                run.append(punch)
                continue
            runs.append(run)
            run = [punch]
        runs.append(run)
    found = sorted((run for run in runs if len(run) >= 2), key=lambda run: run[0]["t"])
    listed = [
        {
            "track_id": run[0].get("track_id"),
            "t_start": run[0]["t"],
            "t_end": run[-1]["t"],
            "sequence": [p["type"] for p in run],
            "name": "-".join(p["type"] for p in run),
        }
        for run in found
    ]
    frequent = Counter(combo["name"] for combo in listed).most_common(TOP_COMBOS)
    return {"combos": listed, "top_combos": [{"name": name, "count": count} for name, count in frequent]}


def rounds(
    punches: Sequence[Punch], duration_s: float, active: Sequence[Sequence[float]] = ()
) -> list[dict[str, Any]]:
    """Work and rest segments. Boxing time is the fighter's ``active`` periods (guard up or punching,
    seen in the keypoints) and PUNCH_MARGIN_S around each punch; a rest is a stretch of
    ≥ REST_GAP_S without it. A clip with no such pause is one work segment from start to end."""
    times = sorted(p["t"] for p in punches)
    if not times:
        return []
    end_s = max(duration_s, times[-1])
    boxing = sorted(
        [(t - PUNCH_MARGIN_S, t + PUNCH_MARGIN_S) for t in times] + [(a[0], a[1]) for a in active]
    )
    edges = [0.0]
    boxed_until = boxing[0][1]
    for start, end in boxing[1:]:
        if start - boxed_until >= REST_GAP_S:
            edges += [max(boxed_until, 0.0), min(start, end_s)]
        boxed_until = max(boxed_until, end)
    edges.append(end_s)
    segments = []
    for i, (start, end) in enumerate(pairwise(edges)):
        inside = [t for t in times if start <= t <= end]
        minutes = max(end - start, 1e-9) / 60
        segments.append({
            "kind": "work" if i % 2 == 0 else "rest",
            "t_start": round(start, 2),
            "t_end": round(end, 2),
            "punches": len(inside),
            "punches_per_minute": round(len(inside) / minutes, 1),
        })  # fmt: skip
    return segments


def timeline(punches: Sequence[Punch], duration_s: float) -> list[dict[str, Any]]:
    """Punches per TIMELINE_BIN_S-second bin, by type (every bin of the clip, empty ones too)."""
    end = max(duration_s, max((p["t"] for p in punches), default=0.0))
    bins = [{"t": round(i * TIMELINE_BIN_S, 1), **dict.fromkeys(PUNCH_TYPES, 0), "total": 0}
            for i in range(int(end // TIMELINE_BIN_S) + 1)]  # fmt: skip
    for punch in punches:
        row = bins[int(punch["t"] // TIMELINE_BIN_S)]
        row[punch["type"]] += 1
        row["total"] += 1
    return bins


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def speed(punches: Sequence[Punch], segments: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and max `peak_speed` per type; fatigue: the change from the first to the last third of
    the work time, of output (punches per minute) and of mean speed, as fractions (-0.2: 20 % less)."""
    per_type = {}
    for kind in PUNCH_TYPES:
        speeds = [
            float(p["peak_speed"]) for p in punches if p["type"] == kind and p.get("peak_speed") is not None
        ]
        per_type[kind] = {
            "count": len(speeds),
            "mean": _mean(speeds),
            "max": round(max(speeds), 3) if speeds else None,
        }
    return {"by_type": per_type, "fatigue": fatigue(punches, segments)}


def fatigue(punches: Sequence[Punch], segments: list[dict[str, Any]]) -> dict[str, float | None]:
    work = [(s["t_start"], s["t_end"]) for s in segments if s["kind"] == "work"]
    total = sum(end - start for start, end in work)
    if total <= 0:
        return {"output_change": None, "speed_change": None}

    def work_time(t: float) -> float:  # seconds of work before t
        return sum(min(max(t - start, 0.0), end - start) for start, end in work)

    third = total / 3
    first = [p for p in punches if work_time(p["t"]) <= third]
    last = [p for p in punches if work_time(p["t"]) >= 2 * third]
    return {
        "output_change": _change(len(first), len(last)),
        "speed_change": _change(_speeds(first), _speeds(last)),
    }


def _speeds(punches: Sequence[Punch]) -> float | None:
    return _mean([float(p["peak_speed"]) for p in punches if p.get("peak_speed") is not None])


def _change(first: float | None, last: float | None) -> float | None:
    if not first or last is None:
        return None
    return round((last - first) / first, 3)


def guard(punches: Sequence[Punch]) -> dict[str, Any]:
    """How fast the punching hand comes back (`t_end - t`: full extension to the end of the punch's
    movement), and the punches during which the other hand dropped out of the guard, with times."""
    returns = [p["t_end"] - p["t"] for p in punches if p.get("t_end") is not None]
    measured = [p for p in punches if p.get("guard_dropped") is not None]
    drops = [
        {"t": p["t"], "track_id": p.get("track_id"), "hand": p.get("hand")}
        for p in measured
        if p["guard_dropped"]
    ]
    return {
        "return_s": {"mean": _mean(returns), "max": round(max(returns), 3) if returns else None},
        "dropped_share": round(len(drops) / len(measured), 3) if measured else None,
        "drops": drops,
    }


def analytics(
    punches: Sequence[Punch], duration_s: float, active: Sequence[Sequence[float]] = ()
) -> Coaching:
    """The coaching figures of one fighter (or of everyone, overall); ``active``: their boxing time
    (guard up or punching), which places the work/rest edges better than the punches alone."""
    segments = rounds(punches, duration_s, active)
    return {
        **combos(punches),
        "rounds": segments,
        "timeline": timeline(punches, duration_s),
        "speed": speed(punches, segments),
        "guard": guard(punches),
    }
