"""classify_keypoints on simulated clips: accuracy thresholds, combos, feints, bystanders, mirroring,
empty and degenerate input. Seeds here are not the training seed (1) nor the bench seed (90210)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest

from shadow_trainer.keypoint_names import KEYPOINT_NAMES
from shadow_trainer.punches import classify_keypoints, summarize_punches
from shadow_trainer.simulation import ClipConditions, Score, clip_seed, match, score_clip, simulate_clip

TEST_SEED = 4242


@pytest.fixture(scope="module")
def random_clips() -> list[tuple[Any, dict[str, Any]]]:
    clips = [simulate_clip(clip_seed(TEST_SEED, i)) for i in range(24)]
    return [(c, classify_keypoints(c.keypoints)) for c in clips]


def test_accuracy_on_random_held_out_clips(random_clips: list[tuple[Any, dict[str, Any]]]) -> None:
    total = Score()
    for clip, result in random_clips:
        total.add(score_clip(clip.labels, result))
    assert total.true_positives + total.false_negatives > 100
    assert total.f1 >= 0.88, total
    assert total.type_accuracy >= 0.88, total
    assert total.hand_accuracy >= 0.96 and total.side_accuracy >= 0.96, total
    assert total.stance_accuracy == 1.0, total


def test_output_follows_the_punches_schema(random_clips: list[tuple[Any, dict[str, Any]]]) -> None:
    clip, result = random_clips[0]
    assert set(result) == {"stance", "fps", "punches"}
    assert result["fps"] == clip.keypoints["fps"]
    for p in result["punches"]:
        assert set(p) == {
            "t",
            "frame",
            "t_start",
            "t_end",
            "track_id",
            "hand",
            "side",
            "type",
            "confidence",
            "peak_speed",
        }
        assert p["t_start"] <= p["t"] <= p["t_end"]
        assert p["t"] == pytest.approx(p["frame"] / result["fps"], abs=1e-3)
        assert p["hand"] in ("left", "right") and p["side"] in ("lead", "rear")
        assert p["type"] in ("jab", "cross", "hook", "uppercut")
        assert 0.0 <= p["confidence"] <= 1.0 and p["peak_speed"] > 0
        assert p["track_id"] == 1


def test_combinations_come_out_as_separate_punches(random_clips: list[tuple[Any, dict[str, Any]]]) -> None:
    in_combo = found = 0
    for clip, result in random_clips:
        truth = clip.labels["punches"]
        times = np.array([p["t"] for p in truth])
        matched = {ti for ti, _ in match(truth, result["punches"])}
        for i, t in enumerate(times):
            if np.sum(np.abs(times - t) < 0.6) > 1:  # another punch within 0.6 s: part of a combination
                in_combo += 1
                found += i in matched
    assert in_combo > 40
    assert found / in_combo >= 0.85


@pytest.mark.parametrize("view", ["front", "side"])
def test_guard_feints_slips_and_footwork_are_not_punches(view: str) -> None:
    detections = 0
    for i in range(4):
        cond = ClipConditions(view=view, punches=False, duration=8.0, noise="medium")
        clip = simulate_clip(clip_seed(TEST_SEED + 1, i), cond)
        assert clip.labels["punches"] == []
        detections += len(classify_keypoints(clip.keypoints)["punches"])
    assert detections <= 2  # at most one false punch per 16 s of non-punch movement


def test_second_person_is_ignored() -> None:
    total = Score()
    for i in range(5):
        clip = simulate_clip(clip_seed(TEST_SEED + 2, i), ClipConditions(second_person=True))
        result = classify_keypoints(clip.keypoints)
        assert all(p["track_id"] == 1 for p in result["punches"])
        total.add(score_clip(clip.labels, result))
    assert total.precision >= 0.9


def test_explicit_track_id_analyses_that_person() -> None:
    clip = simulate_clip(clip_seed(TEST_SEED + 2, 0), ClipConditions(second_person=True))
    result = classify_keypoints(clip.keypoints, track_id=2)
    assert all(p["track_id"] == 2 for p in result["punches"])


def test_mirrored_video_swaps_hands_and_stance_only() -> None:
    for seed in (31, 32):
        plain = classify_keypoints(simulate_clip(seed, ClipConditions(mirrored=False)).keypoints)
        mirror = classify_keypoints(simulate_clip(seed, ClipConditions(mirrored=True)).keypoints)
        assert {plain["stance"], mirror["stance"]} == {"orthodox", "southpaw"}
        swap = {"left": "right", "right": "left"}
        key = [(p["t"], swap[p["hand"]], p["side"], p["type"]) for p in plain["punches"]]
        assert sorted(key) == sorted((p["t"], p["hand"], p["side"], p["type"]) for p in mirror["punches"])
        assert plain["punches"]


def _empty_doc(frames: int) -> dict[str, Any]:
    return {
        "fps": 25.0,
        "width": 640,
        "height": 480,
        "frame_count": frames,
        "keypoint_names": list(KEYPOINT_NAMES),
        "frames": [{"index": i, "t": i / 25, "people": []} for i in range(frames)],
    }


@pytest.mark.parametrize("frames", [0, 1, 50])
def test_nobody_in_view_gives_an_empty_result(frames: int) -> None:
    assert classify_keypoints(_empty_doc(frames)) == {"stance": "orthodox", "fps": 25.0, "punches": []}


def test_low_confidence_and_short_clips_do_not_crash() -> None:
    clip = simulate_clip(77, ClipConditions(duration=4.0))
    doc = copy.deepcopy(clip.keypoints)
    for frame in doc["frames"]:
        for person in frame["people"]:
            person["keypoints"] = [[x, y, 0.1] for x, y, _ in person["keypoints"]]
    assert classify_keypoints(doc)["punches"] == []
    short = copy.deepcopy(clip.keypoints)
    short["frames"] = short["frames"][:3]
    assert classify_keypoints(short)["punches"] == []
    gappy = copy.deepcopy(clip.keypoints)
    for frame in gappy["frames"][10:40]:
        frame["people"] = []
    classify_keypoints(gappy)


def test_summary_counts() -> None:
    doc = {
        "stance": "southpaw",
        "fps": 30.0,
        "punches": [
            {"type": "jab", "hand": "right", "side": "lead"},
            {"type": "cross", "hand": "left", "side": "rear"},
            {"type": "jab", "hand": "right", "side": "lead"},
        ],
    }
    summary = summarize_punches(doc, duration_s=30.0)
    assert summary["total_punches"] == 3
    assert summary["punches_per_minute"] == 6.0
    assert summary["stance"] == "southpaw"
    assert summary["by_type"] == {"jab": 2, "cross": 1, "hook": 0, "uppercut": 0}
    assert summary["by_hand"] == {"left": 1, "right": 2}
    assert summary["by_side"] == {"lead": 2, "rear": 1}
    assert summary["by_type_and_hand"]["jab"] == {"left": 0, "right": 2}
    assert (
        summarize_punches({"stance": "orthodox", "punches": []}, duration_s=0.0)["punches_per_minute"] == 0.0
    )


def test_temporal_model_onnx_runtime_matches_numpy() -> None:
    from shadow_trainer.punches.temporal import load_model

    model = load_model()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 90, model.mean.size)) * model.std + model.mean
    np.testing.assert_allclose(model.run(x), model(x), atol=1e-3)
