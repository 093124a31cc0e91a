"""The boxing part of summary.json, computed from a punches.json document."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from shadow_trainer.documents.punches_document import (
    HANDS,
    PUNCH_TYPES,
    SIDES,
    Fighter,
    Punch,
    PunchesDocument,
)
from shadow_trainer.documents.summary_document import Counts, FighterSummary, PunchSummary
from shadow_trainer.punches.analytics import analytics


def counts(punches: Sequence[Punch], duration_s: float) -> Counts:
    """Counts per type, hand, side and type+hand, and punches per minute."""
    by_type = Counter(p["type"] for p in punches)
    by_hand = Counter(p["hand"] for p in punches)
    by_side = Counter(p["side"] for p in punches)
    by_type_hand = Counter((p["type"], p["hand"]) for p in punches)
    minutes = duration_s / 60.0
    return {
        "total_punches": len(punches),
        "punches_per_minute": round(len(punches) / minutes, 2) if minutes > 0 else 0.0,
        "by_type": {t: by_type.get(t, 0) for t in PUNCH_TYPES},
        "by_hand": {h: by_hand.get(h, 0) for h in HANDS},
        "by_side": {s: by_side.get(s, 0) for s in SIDES},
        "by_type_and_hand": {t: {h: by_type_hand.get((t, h), 0) for h in HANDS} for t in PUNCH_TYPES},
    }


def summarize_punches(punches_doc: PunchesDocument, *, duration_s: float) -> PunchSummary:
    """Overall counts, the main fighter's stance, whether anybody boxes, counts per fighter, and the
    coaching analytics (combos, rounds, timeline, speed) overall and per fighter."""
    punches, fighters = punches_doc["punches"], punches_doc["fighters"]
    return {
        "stance": punches_doc["stance"],
        "stance_confidence": punches_doc["stance_confidence"],
        "boxer_found": bool(fighters),
        "main_track_id": punches_doc["main_track_id"],
        **counts(punches, duration_s),
        **analytics(punches, duration_s, active=[p for f in fighters for p in f.get("active", [])]),
        "stance_switches": _all_switches(fighters),
        "fighters": [
            _fighter(f, [p for p in punches if p["track_id"] == f["track_id"]], duration_s) for f in fighters
        ],
    }


def _all_switches(fighters: list[Fighter]) -> list[dict[str, Any]]:
    switches = [{**switch, "track_id": f["track_id"]} for f in fighters for switch in f["stance_switches"]]
    return sorted(switches, key=lambda switch: switch["t"])


def _fighter(fighter: Fighter, punches: list[Punch], duration_s: float) -> FighterSummary:
    return {
        "track_id": fighter["track_id"],
        "stance": fighter["stance"],
        "stance_confidence": fighter["stance_confidence"],
        "seen": fighter["seen"],
        **counts(punches, duration_s),
        **analytics(punches, duration_s, active=fighter.get("active", [])),
        "stance_switches": fighter["stance_switches"],
    }
