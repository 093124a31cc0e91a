"""Coaching analytics from punches: combinations, work/rest segments, output over time, speed, fatigue."""

from __future__ import annotations

import copy
import random
from typing import Any

import numpy as np
import pytest

from boxing_sim import simulate_clip
from boxing_sim.clip import ClipConditions
from shadow_trainer.documents.punches_document import Punch
from shadow_trainer.pose.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.punches import classify_keypoints, summarize_punches
from shadow_trainer.punches.analytics import analytics, combos, rounds, timeline
from shadow_trainer.punches.detection import Candidate
from shadow_trainer.punches.detector import ScoredCandidate
from shadow_trainer.punches.features import BodySeries
from shadow_trainer.punches.fighters import active_periods, other_hand_dropped
from tests.support.punches import punch


def test_combos_are_one_fighters_punches_in_quick_succession() -> None:
    thrown = [punch(1.0, "jab"), punch(1.4, "cross"), punch(1.9, "hook"), punch(5.0, "jab"),
              punch(1.2, "jab", track=2), punch(1.5, "cross", track=2),
              punch(9.0, "jab"), punch(9.5, "cross")]  # fmt: skip
    found = combos(thrown)
    assert [(c["track_id"], c["name"], c["t_start"]) for c in found["combos"]] == [
        (1, "jab-cross-hook", 1.0), (2, "jab-cross", 1.2), (1, "jab-cross", 9.0),
    ]  # fmt: skip
    assert found["combos"][0]["sequence"] == ["jab", "cross", "hook"]
    assert found["top_combos"][0] == {"name": "jab-cross", "count": 2}


def session(seed: int, work: list[tuple[float, float]]) -> list[Punch]:
    """Punches every 1–4 s through each work period, none between."""
    rng, thrown = random.Random(seed), []
    for start, end in work:
        t = start + rng.uniform(0.2, 1.5)
        while t < end:
            thrown.append(punch(round(t, 2), rng.choice(["jab", "cross", "hook", "uppercut"])))
            t += rng.uniform(1.0, 4.0)
    return thrown


@pytest.mark.parametrize("seed", range(5))
def test_two_rounds_and_a_rest_are_found_within_two_seconds(seed: int) -> None:
    segments = rounds(session(seed, [(0, 180), (240, 420)]), duration_s=420)
    assert [s["kind"] for s in segments] == ["work", "rest", "work"]
    assert abs(segments[0]["t_end"] - 180) <= 2 and abs(segments[2]["t_start"] - 240) <= 2
    assert segments[1]["punches"] == 0 and segments[0]["punches"] + segments[2]["punches"] > 80


def test_a_continuous_clip_is_one_segment() -> None:
    segments = rounds(session(7, [(0, 95)]), duration_s=95)
    assert [(s["kind"], s["t_start"], s["t_end"]) for s in segments] == [("work", 0.0, 95.0)]
    assert rounds([], 30.0) == []


def test_timeline_bins_every_ten_seconds_by_type() -> None:
    thrown = [punch(0.5, "jab"), punch(9.9, "hook"), punch(10.0, "jab"), punch(31.0, "cross")]
    bins = timeline(thrown, duration_s=35)
    assert [b["t"] for b in bins] == [0, 10, 20, 30]
    counts = [(b["jab"], b["hook"], b["cross"], b["total"]) for b in bins]
    assert counts == [(1, 1, 0, 2), (1, 0, 0, 1), (0, 0, 0, 0), (0, 0, 1, 1)]


def test_speed_per_type_and_fatigue_over_the_work_time() -> None:
    # One 90 s segment (no 30 s pause): 4 punches in the first third, 2 slower ones in the last.
    first = [punch(5, speed=6), punch(12, speed=6), punch(20, "cross", speed=8), punch(28, speed=6)]
    thrown = [*first, punch(45, speed=5), punch(62, speed=4), punch(80, speed=3)]
    figures = analytics(thrown, duration_s=90)
    assert [s["kind"] for s in figures["rounds"]] == ["work"]
    assert figures["speed"]["by_type"]["jab"] == {"count": 6, "mean": 5.0, "max": 6.0}
    assert figures["speed"]["by_type"]["hook"] == {"count": 0, "mean": None, "max": None}
    fatigue = figures["speed"]["fatigue"]
    assert fatigue["output_change"] == pytest.approx(-0.5)  # 4 punches → 2
    assert fatigue["speed_change"] == pytest.approx((3.5 - 6.5) / 6.5, abs=1e-3)


def test_guard_return_time_and_dropped_hands_with_their_times() -> None:
    thrown = [
        punch(1.0, t_end=1.3, hand="left", guard_dropped=False),
        punch(2.0, t_end=2.5, hand="right", guard_dropped=True),
        punch(3.0, t_end=3.2, hand="left", guard_dropped=None),  # other hand not seen
    ]
    figures = analytics(thrown, duration_s=5)["guard"]
    assert figures["return_s"] == {"mean": pytest.approx(1 / 3, abs=1e-3), "max": 0.5}
    assert figures["dropped_share"] == 0.5  # of the two punches where the other hand was seen
    assert figures["drops"] == [{"t": 2.0, "track_id": 1, "hand": "right"}]


def test_the_other_hand_dropping_below_the_guard_is_seen() -> None:
    points = np.full((10, 17, 2), np.nan)
    points[:, K["left_shoulder"]] = points[:, K["right_shoulder"]] = (100.0, 100.0)
    points[:, K["right_wrist"]] = (120.0, 120.0)  # the other hand: up, 0.2 torso below the shoulders
    body = BodySeries(
        fps=10, torso_px=100, shoulder_width_px=60, points=points, arms={}, scale=np.full(10, 100.0)
    )
    assert other_hand_dropped(body, "left", 2, 6) is False
    points[5, K["right_wrist"]] = (120.0, 160.0)  # 0.6 torso below: out of the guard
    assert other_hand_dropped(body, "left", 2, 6) is True
    assert other_hand_dropped(body, "left", 6, 9) is False  # after the drop
    assert other_hand_dropped(body, "right", 2, 6) is None  # the left wrist is never seen


def joined_clips(
    stances: tuple[str, str], seeds: tuple[int, int], duration_s: float = 20.0
) -> dict[str, Any]:
    """Two simulated clips of one boxer, one after the other, as one keypoints document."""
    docs = [
        simulate_clip(
            seed, ClipConditions(stance=stance, duration=duration_s, view="three_quarter")
        ).keypoints
        for seed, stance in zip(seeds, stances, strict=True)
    ]
    joined = copy.deepcopy(docs[0])
    offset, fps = len(joined["frames"]), joined["fps"]
    for frame in docs[1]["frames"]:
        index = frame["index"] + offset
        people = [p for p in frame["people"] if p["track_id"] == 1]
        joined["frames"].append({**frame, "index": index, "t": round(index / fps, 6), "people": people})
    joined["frame_count"] = len(joined["frames"])
    return joined


@pytest.mark.parametrize("seeds", [(1, 2), (5, 6)])
def test_a_stance_switch_is_found_near_when_it_happened(seeds: tuple[int, int]) -> None:
    switched = classify_keypoints(joined_clips(("orthodox", "southpaw"), seeds))
    [fighter] = switched["fighters"]
    [switch] = fighter["stance_switches"]
    assert (switch["from"], switch["to"]) == ("orthodox", "southpaw") and abs(switch["t"] - 20.0) <= 5.0
    summary = summarize_punches(switched, duration_s=40.0)
    assert summary["stance_switches"] == [{**switch, "track_id": fighter["track_id"]}]
    kept = classify_keypoints(joined_clips(("orthodox", "orthodox"), seeds))
    assert kept["fighters"][0]["stance_switches"] == []


def test_boxing_time_places_the_round_edges_where_the_guard_went_up_and_down() -> None:
    # The second round's first punch comes seconds after the bell: the punches alone would start
    # the round there, the guard going up starts it on time.
    punches = session(3, [(0, 180)]) + [p for p in session(4, [(240, 420)]) if p["t"] > 248]
    alone = rounds(punches, duration_s=420)
    boxed = rounds(punches, duration_s=420, active=[[0.0, 180.0], [240.0, 300.0], [301.5, 420.0]])
    assert [s["kind"] for s in boxed] == [s["kind"] for s in alone] == ["work", "rest", "work"]
    assert alone[2]["t_start"] > 246 and boxed[2]["t_start"] == 240.0 and boxed[0]["t_end"] == 180.0
    # A moment with both hands up while resting (a drink) is not boxing time; a short pause is.
    assert rounds(punches, 420, active=[[0.0, 180.0], [210.0, 211.0], [240.0, 420.0]])[1]["kind"] == "rest"


def scored(start: int, end: int) -> ScoredCandidate:
    cand = Candidate(hand="left", peak=(start + end) // 2, start=start, end=end, activity=np.zeros(1))
    return ScoredCandidate(candidate=cand, punch=0.9, kind_probs=np.ones(3) / 3)


def test_active_periods_are_guard_or_punching_with_short_pauses_bridged() -> None:
    fps = 10
    up = np.zeros(600, dtype=bool)
    up[0:200] = up[215:300] = True  # 1.5 s pause: bridged
    up[400:420] = True  # 2 s of hands up alone: left out
    periods = active_periods(up, [scored(500, 506)], fps)  # a punch with the guard down: kept
    assert periods == [(0.0, 30.0), (50.0, 50.7)]


def resting(frame: dict[str, Any], lowered: float) -> dict[str, Any]:
    """The boxer of a simulated frame with both hands `lowered` (0..1) from where they are to the hips."""
    people = []
    for person in frame["people"]:
        points = np.array(person["keypoints"], dtype=float)
        for side in ("left", "right"):
            hip, shoulder = points[K[f"{side}_hip"], :2], points[K[f"{side}_shoulder"], :2]
            for joint, target in (("elbow", (hip + shoulder) / 2), ("wrist", hip)):
                xy = points[K[f"{side}_{joint}"], :2]
                points[K[f"{side}_{joint}"], :2] = xy + lowered * (target - xy)
        people.append({**person, "keypoints": points.tolist()})
    return {**frame, "people": people}


def test_a_rest_with_the_hands_down_between_two_bouts_is_found_from_the_keypoints() -> None:
    bout = simulate_clip(8, ClipConditions(duration=20.0, view="front", second_person=False)).keypoints
    fps, last, first = bout["fps"], bout["frames"][-1], bout["frames"][0]
    second = int(fps)  # hands come down, and go up again, over a second
    rest = [resting(last, i / second) for i in range(second)] + [resting(last, 1.0)] * int(38 * fps)
    rest += [resting(first, 1 - i / second) for i in range(second)]
    frames = bout["frames"] + rest + bout["frames"]
    doc = {**bout, "frame_count": len(frames), "frames": [
        {**f, "index": i, "t": round(i / fps, 6)} for i, f in enumerate(frames)
    ]}  # fmt: skip
    found = classify_keypoints(doc)
    [fighter] = found["fighters"]
    summary = summarize_punches(found, duration_s=len(frames) / fps)
    segments = summary["fighters"][0]["rounds"]
    assert [s["kind"] for s in segments] == ["work", "rest", "work"], fighter["active"]
    assert abs(segments[0]["t_end"] - 20) <= 2 and abs(segments[2]["t_start"] - 60) <= 2, segments
    assert summary["rounds"] == segments
