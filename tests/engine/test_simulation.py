"""The simulated boxer: deterministic, geometrically sane, valid keypoints.json, honest labels."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from boxing_sim import ClipConditions, simulate_clip, write_dataset
from boxing_sim.body import Proportions
from boxing_sim.choreography import make_script
from boxing_sim.motion import Style, simulate_3d
from shadow_trainer.pose.keypoint_names import KEYPOINT_INDEX as K
from shadow_trainer.punches import load_keypoints, validate_keypoints


def test_same_seed_same_clip_and_different_seed_different_clip() -> None:
    a, b, c = simulate_clip(5), simulate_clip(5), simulate_clip(6)
    assert a.keypoints == b.keypoints and a.labels == b.labels
    assert a.keypoints != c.keypoints


def test_clip_is_a_valid_keypoints_document_with_labels_inside_the_clip() -> None:
    clip = simulate_clip(11, ClipConditions(duration=6.0, fps=25.0, second_person=True))
    doc = validate_keypoints(clip.keypoints)
    assert doc["frame_count"] == len(doc["frames"]) == 150
    assert max(len(f["people"]) for f in doc["frames"]) == 2
    assert [f["track_id"] for f in clip.labels["fighters"]] == [1, 2]  # the second person boxes too
    punches = [p for p in clip.labels["punches"] if p["track_id"] == 1]
    assert punches, "a 6 s clip with punches enabled has punches"
    assert all(0 < p["t"] < 6.0 for p in punches)
    assert {p["type"] for p in punches} <= {"jab", "cross", "hook", "uppercut"}
    assert all((p["type"] == "jab") <= (p["side"] == "lead") for p in punches)
    assert all((p["side"] == "lead") == (p["hand"] == "left") for p in punches)  # orthodox, not mirrored


def test_bones_keep_their_length_while_punching() -> None:
    rng = np.random.default_rng(3)
    props = Proportions()
    pts = simulate_3d(make_script(rng, 6.0), props, Style.random(rng), True, 30.0, rng)
    for a, b, length in (
        ("left_shoulder", "left_elbow", props.upper_arm),
        ("right_elbow", "right_wrist", props.forearm),
        ("left_hip", "left_knee", props.thigh),
        ("right_knee", "right_ankle", props.shin),
    ):
        bone = np.linalg.norm(pts[:, K[a]] - pts[:, K[b]], axis=1)
        np.testing.assert_allclose(bone, length, rtol=0.01)
    assert (pts[:, K["nose"], 1] > pts[:, K["left_hip"], 1]).all(), "head above hips"
    assert (pts[:, K["left_ankle"], 1] < 0.05).all(), "feet on the ground"


def test_front_view_shows_the_boxer_unmirrored_and_upright() -> None:
    clip = simulate_clip(2, ClipConditions(view="front", noise="low", dropout=0.0, stance="orthodox"))
    kp = np.array([p["keypoints"] for f in clip.keypoints["frames"] for p in f["people"]])
    # Facing the camera, the boxer's left shoulder appears on the image's right.
    assert (kp[:, K["left_shoulder"], 0] > kp[:, K["right_shoulder"], 0]).mean() > 0.95
    assert (kp[:, K["nose"], 1] < kp[:, K["left_ankle"], 1]).all()


def test_mirrored_clip_flips_the_image_and_the_labels() -> None:
    plain = simulate_clip(9, ClipConditions(mirrored=False, stance="orthodox"))
    mirror = simulate_clip(9, ClipConditions(mirrored=True, stance="orthodox"))
    width = plain.keypoints["width"]
    p = np.array(plain.keypoints["frames"][0]["people"][0]["keypoints"])
    m = np.array(mirror.keypoints["frames"][0]["people"][0]["keypoints"])
    np.testing.assert_allclose(m[K["left_wrist"], 0], width - p[K["right_wrist"], 0], atol=0.02)
    assert mirror.labels["stance"] == "southpaw"
    assert [x["hand"] for x in mirror.labels["punches"]] == [
        {"left": "right", "right": "left"}[x["hand"]] for x in plain.labels["punches"]
    ]
    assert [x["type"] for x in mirror.labels["punches"]] == [x["type"] for x in plain.labels["punches"]]


def test_write_dataset(tmp_path: Path) -> None:
    files = write_dataset(tmp_path, clips=2, seed=4)
    assert [f.name for f in files] == ["clip_0000.keypoints.json", "clip_0001.keypoints.json"]
    for f in files:
        load_keypoints(f)
        labels = json.loads(f.with_name(f.name.replace("keypoints", "labels")).read_text())
        assert labels["stance"] in ("orthodox", "southpaw")


def test_wide_variety_is_deterministic_valid_and_varied() -> None:
    clips = [simulate_clip(seed, variety="wide") for seed in range(300, 330)]
    assert simulate_clip(300, variety="wide").keypoints == clips[0].keypoints
    for clip in clips:
        validate_keypoints(clip.keypoints)
        assert all(0 < p["t"] < clip.labels["duration"] for p in clip.labels["punches"])
    varieties = [c.labels["conditions"]["variety"] for c in clips]
    assert {v["framing"] for v in varieties} == {"full_body", "upper_body", "head_cut"}
    assert any(v["opponent"] for v in varieties) and any(v["resolution"] for v in varieties)
    assert len({c.keypoints["fps"] for c in clips}) >= 5
    sizes = {(c.keypoints["width"], c.keypoints["height"]) for c in clips}
    assert (160, 120) in sizes or (320, 240) in sizes


def test_classic_clips_do_not_change_with_the_variety_machinery() -> None:
    plain = simulate_clip(21)
    assert plain.keypoints == simulate_clip(21, variety="classic").keypoints
    assert plain.labels["conditions"]["variety"] == {"wide": False}


def test_upper_body_framing_loses_the_legs() -> None:
    seeds = [
        s
        for s in range(300, 360)
        if simulate_clip(s, variety="wide").labels["conditions"]["variety"]["framing"] == "upper_body"
    ]
    clip = simulate_clip(seeds[0], variety="wide")
    kp = np.array(
        [p["keypoints"] for f in clip.keypoints["frames"] for p in f["people"] if p["track_id"] == 1]
    )
    assert (kp[:, K["left_ankle"], 2] < 0.3).mean() > 0.9  # out of the picture: low confidence
    assert (kp[:, K["left_shoulder"], 2] >= 0.3).mean() > 0.8


def test_an_opponent_faces_the_boxer_and_is_labelled() -> None:
    seed = next(
        s
        for s in range(300, 400)
        if simulate_clip(s, variety="wide").labels["conditions"]["variety"]["opponent"]
    )
    clip = simulate_clip(seed, variety="wide")
    assert {1, 2} <= {p["track_id"] for p in clip.labels["punches"]}
    facing: dict[int, list[float]] = {1: [], 2: []}
    for frame in clip.keypoints["frames"]:
        people = {p["track_id"]: np.array(p["keypoints"]) for p in frame["people"] if p["track_id"] in (1, 2)}
        if len(people) < 2:
            continue
        towards = np.sign(people[2][K["nose"], 0] - people[1][K["nose"], 0])
        for track, sign in ((1, towards), (2, -towards)):
            k = people[track]
            neck = (k[K["left_shoulder"], 0] + k[K["right_shoulder"], 0]) / 2
            facing[track].append(float(np.sign(k[K["nose"], 0] - neck) == sign))
    # Side-on, each fighter's nose points toward the other fighter.
    assert np.mean(facing[1]) > 0.8 and np.mean(facing[2]) > 0.8
