"""The boxing part of summary.json, computed from a punches.json document."""

from __future__ import annotations

from collections import Counter
from typing import Any

PUNCH_TYPES = ("jab", "cross", "hook", "uppercut")
HANDS = ("left", "right")
SIDES = ("lead", "rear")


def summarize_punches(punches_doc: dict[str, Any], *, duration_s: float) -> dict[str, Any]:
    """Counts per type, hand, side and type+hand, punches per minute and stance."""
    punches = punches_doc.get("punches", [])
    by_type = Counter(p["type"] for p in punches)
    by_hand = Counter(p["hand"] for p in punches)
    by_side = Counter(p["side"] for p in punches)
    by_type_hand = Counter((p["type"], p["hand"]) for p in punches)
    minutes = duration_s / 60.0
    return {
        "stance": punches_doc.get("stance"),
        "total_punches": len(punches),
        "punches_per_minute": round(len(punches) / minutes, 2) if minutes > 0 else 0.0,
        "by_type": {t: by_type.get(t, 0) for t in PUNCH_TYPES},
        "by_hand": {h: by_hand.get(h, 0) for h in HANDS},
        "by_side": {s: by_side.get(s, 0) for s in SIDES},
        "by_type_and_hand": {t: {h: by_type_hand.get((t, h), 0) for h in HANDS} for t in PUNCH_TYPES},
    }
