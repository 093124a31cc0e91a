"""bench/eval_real.py runs the whole pipeline on real labelled clips and prints its table.

No accuracy threshold here (that is what the bench is for): this shows the script works, end to end,
on two short real clips of ../shared/realbox, and is skipped when that folder is absent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))

from realbox import labelled_clips, realbox_dir  # noqa: E402

CLIPS = ("jab_clearBG", "alcfonseca")

pytestmark = pytest.mark.skipif(
    len(labelled_clips(names=list(CLIPS))) < 2, reason=f"real labelled clips not found under {realbox_dir()}"
)


def test_eval_real_scores_two_clips_through_the_pipeline(tmp_path: Path) -> None:
    cache = tmp_path / "pose-cache"
    command = [sys.executable, str(REPO / "bench" / "eval_real.py"), "--clips", *CLIPS, "--no-negatives"]
    first = subprocess.run(
        [*command, "--pose-cache", str(cache)], capture_output=True, text=True, timeout=600
    )
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0].startswith("2 real clips")
    rows = [line for line in lines if any(name in line for name in CLIPS)]
    assert len(rows) == 2
    overall = next(line for line in lines if line.startswith("OVERALL (2 clips)"))
    assert overall.split()[3] == "2"  # two labelled punches
    # The pose cache holds each clip's keypoints.json; a second run classifies it again and agrees.
    assert len(list((cache / "yolo11n-pose").glob("*.keypoints.json"))) == 2
    second = subprocess.run(
        [*command, "--pose-cache", str(cache)], capture_output=True, text=True, timeout=600
    )
    assert second.returncode == 0, second.stderr
    assert [line for line in second.stdout.splitlines() if "clip" in line or "OVERALL" in line] == [
        line for line in lines if "clip" in line or "OVERALL" in line
    ]
    # The same clips at half their frame rate, from the cached keypoints.
    half = subprocess.run(
        [*command, "--pose-cache", str(cache), "--every", "2"], capture_output=True, text=True, timeout=600
    )
    assert half.returncode == 0, half.stderr
    assert "at 1/2 of each clip's frame rate" in half.stdout.splitlines()[0]
    assert next(line for line in half.stdout.splitlines() if line.startswith("OVERALL")).split()[3] == "2"


def test_a_clip_at_a_lower_frame_rate_keeps_its_punches_at_the_same_moments() -> None:
    from realbox import LabelledClip, at_lower_rate, keypoints_at_lower_rate

    person = {"track_id": 1, "bbox": [0, 0, 1, 1], "score": 0.9, "keypoints": [[0, 0, 1]] * 17}
    doc = {
        "fps": 30.0,
        "width": 64,
        "height": 48,
        "frame_count": 11,
        "frames": [{"index": i, "t": i / 30, "people": [person]} for i in range(11)],
    }
    thin = keypoints_at_lower_rate(doc, 2)
    assert thin["fps"] == 15.0 and thin["frame_count"] == 6
    assert [(f["index"], f["t"]) for f in thin["frames"]] == [(i, 2 * i / 30) for i in range(6)]
    labels = {
        "fps": 30.0,
        "fighters": [],
        "punches": [{"fighter": "A", "frame": 7, "hand": "left", "type": "jab"}],
    }
    clip = at_lower_rate(LabelledClip("x.mp4", Path("x.mp4"), labels), 2)
    assert clip.fps == 15.0 and clip.punches[0]["frame"] == 4  # 7/30 s ~ 4/15 s
    assert at_lower_rate(clip, 1) is clip and keypoints_at_lower_rate(doc, 1) is doc


def test_scoring_matches_one_to_one_within_a_quarter_second() -> None:
    from realbox import LabelledClip, score_clip

    labels = {
        "clip": "x.mp4",
        "fps": 20.0,
        "fighters": [{"id": "A", "stance": "orthodox"}],
        "punches": [
            {"fighter": "A", "frame": 10, "hand": "left", "type": "jab", "sure": True},
            {"fighter": "B", "frame": 40, "hand": "right", "type": "hook", "sure": True},
            {"fighter": "A", "frame": 60, "hand": "left", "type": "other", "sure": True},
        ],
    }
    clip = LabelledClip("x.mp4", Path("x.mp4"), labels)
    predicted = {
        "stance": "orthodox",
        "fighters": [{"track_id": 1}, {"track_id": 7}],  # one person, seen as two tracks
        "punches": [
            {"frame": 14, "hand": "left", "type": "cross"},  # 0.2 s off: matched; straight, but not the jab
            {"frame": 15, "hand": "left", "type": "jab"},  # a second one for the same punch: false
            {"frame": 46, "hand": "right", "type": "hook"},  # 0.3 s off: too far
            {"frame": 61, "hand": "left", "type": "jab"},  # on a backfist: not a punch
        ],
    }
    s = score_clip(clip, predicted)
    assert (s.predicted, s.matched, s.labelled, s.labelled_a, s.matched_a, s.on_other) == (4, 1, 2, 1, 1, 1)
    assert s.precision == 0.25 and s.recall == 0.5 and s.recall_a == 1.0
    assert s.type_accuracy == 1.0 and s.jab_cross_accuracy == 0.0 and s.stance_correct == 1
    assert (s.fighters_found, s.fighters_labelled, s.extra_fighters) == (2, 1, 1)
