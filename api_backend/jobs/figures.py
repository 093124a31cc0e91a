"""The few figures of a finished session that the job list and the progress page show.

Taken from the job's summary.json when it succeeds and kept on its row, so that neither page reads
storage. They are the main fighter's (the boxer the session is about; in sparring, the one seen
most), or everyone's when nobody was singled out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def session_figures(summary: Mapping[str, Any]) -> dict[str, Any]:
    fighters = summary.get("fighters") or []
    main = next((f for f in fighters if f.get("track_id") == summary.get("main_track_id")), None)
    source = main or summary
    duration = float(summary.get("duration") or 0.0)
    combos = len(source.get("combos") or [])
    minutes = duration / 60
    return {
        "track_id": main["track_id"] if main else None,
        "fighters": len(fighters),
        "duration_s": round(duration, 2),
        "punches": int(source.get("total_punches", 0)),
        "punches_per_minute": float(source.get("punches_per_minute", 0.0)),
        "mean_speed": mean_speed(source.get("speed")),
        "combos": combos,
        "combos_per_minute": round(combos / minutes, 2) if minutes > 0 else 0.0,
    }


def mean_speed(speed: dict[str, Any] | None) -> float | None:
    """The mean `peak_speed` of all punches, from the per-type means and counts."""
    rows = [row for row in ((speed or {}).get("by_type") or {}).values() if row.get("mean") is not None]
    count = sum(row["count"] for row in rows)
    if not count:
        return None
    return round(sum(row["mean"] * row["count"] for row in rows) / count, 3)


def thumbnail_time(summary: Mapping[str, Any]) -> float:
    """When to take the job list's still: the last punch of the longest combination (the boxer in
    action, a fist out), else the middle of the clip."""
    combos = summary.get("combos") or []
    if combos:
        longest = max(combos, key=lambda combo: (len(combo["sequence"]), -combo["t_start"]))
        return float(longest["t_end"])
    return float(summary.get("duration") or 0.0) / 2
