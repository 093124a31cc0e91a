"""Punch accuracy on real, hand-labelled boxing video (``../shared/realbox``) and false punches on
real footage of people not boxing.

    uv run python bench/eval_real.py                       # every clip, whole pipeline (~6 min here)
    uv run python bench/eval_real.py --pose-cache /tmp/rbc  # keep keypoints: reruns only classify
    uv run python bench/eval_real.py --clips KTH jab        # clips whose name contains any of these

Each clip goes through the whole pipeline as the worker runs it (video -> pose -> tracking ->
punches). With ``--pose-cache`` the keypoints.json of a first run is kept per clip and model, and
later runs classify it again with the current punch code (the pipeline classifies that same
document, so the result is the same). A row per clip, then totals per view, per framing and overall.
Scoring: see ``bench/realbox.py``. Exits 0 with a note when the clip set is absent.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realbox import (
    MATCH_TOLERANCE_S,
    LabelledClip,
    Score,
    at_lower_rate,
    keypoints_at_lower_rate,
    labelled_clips,
    non_boxing_videos,
    realbox_dir,
    score_clip,
)

from shadow_trainer.pipeline.analysis import analyze_video
from shadow_trainer.pose.options import DEFAULT_MODEL, DEFAULT_PRECISION, PRECISIONS, Precision
from shadow_trainer.punches import classify_keypoints, load_keypoints, summarize_punches

COLUMNS = (
    "clip",
    "labels",
    "pred",
    "TP",
    "prec",
    "rec_A",
    "F1_A",
    "rec",
    "type",
    "jab/x",
    "hand",
    "fighters",
    "stance",
)


@dataclass(frozen=True)
class PoseSetup:
    """Which pose model, in which CPU arithmetic; each has its own cached keypoints."""

    model: str = DEFAULT_MODEL
    precision: Precision = DEFAULT_PRECISION

    @property
    def cache_name(self) -> str:
        return self.model if self.precision == "fp32" else f"{self.model}-{self.precision}"

    def __str__(self) -> str:
        return f"{self.model} ({self.precision})"


@dataclass(frozen=True)
class ClipRun:
    punches: Mapping[str, Any]  # punches.json
    keypoints: dict[str, Any]  # keypoints.json
    boxer_found: bool
    seconds: float


def run_clip(video: Path, pose: PoseSetup, cache: Path | None) -> ClipRun:
    """One video through the pipeline (or its cached keypoints.json through the punch stage)."""
    cached = cache / pose.cache_name / f"{video.name}.keypoints.json" if cache else None
    if cached is not None and cached.is_file():
        doc = load_keypoints(cached)
        punches = classify_keypoints(doc)
        found = summarize_punches(punches, duration_s=0.0)["boxer_found"]
        return ClipRun(punches, doc, found, doc["frame_count"] / doc["fps"])
    with tempfile.TemporaryDirectory(prefix="eval-real-") as tmp:
        result = analyze_video(
            video, Path(tmp) / "out", model=pose.model, device="cpu", pose_precision=pose.precision
        )
        out = result.outputs
        punches = json.loads(out["punches.json"].read_text(encoding="utf-8"))
        doc = load_keypoints(out["keypoints.json"])
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(out["keypoints.json"].read_bytes())
        return ClipRun(punches, doc, bool(result.summary["boxer_found"]), result.video.duration)


def cached_keypoints(video: Path, pose: PoseSetup, cache: Path) -> dict[str, Any]:
    """The clip's keypoints.json from the cache, running the pipeline once if it is not there."""
    path = cache / pose.cache_name / f"{video.name}.keypoints.json"
    if not path.is_file():
        run_clip(video, pose, cache)
    return load_keypoints(path)


def _cells(name: str, s: Score, stance: str) -> list[str]:
    def f(v: float) -> str:
        return "-" if v != v else f"{v:.2f}"

    return [
        name,
        str(s.labelled),
        str(s.predicted),
        str(s.matched),
        f(s.precision),
        f(s.recall_a),
        f(s.f1_a),
        f(s.recall),
        f(s.type_accuracy),
        f(s.jab_cross_accuracy),
        f(s.hand_accuracy),
        f"{s.fighters_found}/{s.fighters_labelled}",
        stance,
    ]


def _print_row(cells: list[str]) -> None:
    print(f"{cells[0]:<44.44}" + "".join(f" {c:>8}" for c in cells[1:]))


def evaluate_clips(clips: list[LabelledClip], pose: PoseSetup, cache: Path | None, every: int = 1) -> Score:
    """``every`` > 1: each clip's keypoints thinned to every ``every``-th frame and classified again, as if
    filmed at that fraction of its frame rate."""
    groups: dict[str, Score] = defaultdict(Score)
    total = Score()
    _print_row(list(COLUMNS))
    short = ShortClips()
    for clip in clips:
        run = run_clip(clip.video, pose, cache)
        keypoints, punches = run.keypoints, run.punches
        if every > 1:
            clip, keypoints = at_lower_rate(clip, every), keypoints_at_lower_rate(keypoints, every)
            punches = classify_keypoints(keypoints)
        score = score_clip(clip, punches)
        short.add(clip, keypoints)
        truth = next((f["stance"] for f in clip.labels["fighters"] if f["id"] == "A"), "?")
        _print_row(_cells(clip.name, score, f"{punches['stance']}/{truth}"))
        total.add(score)
        groups[f"view={clip.labels['view']}"].add(score)
        groups[f"framing={clip.labels['framing']}"].add(score)
    print()
    for key in sorted(groups):
        _print_row(_cells(key, groups[key], "-"))
    stance = f"{total.stance_correct}/{total.stance_total}"
    _print_row(_cells(f"OVERALL ({len(clips)} clips)", total, stance))
    if total.on_other:
        print(f"predictions on labelled non-punch strikes (counted as false): {total.on_other}")
    print(f"fighters beyond the people labelled (a track in pieces, a bystander): {total.extra_fighters}")
    short.report()
    return total


class ShortClips:
    """Each sure punch cut out as a clip of its own (1.5 s of keypoints, the punch 0.4 s from its
    start or its end): is it still found? A detector that needs seconds of context fails here."""

    LENGTH_S = 1.5
    MARGIN_S = 0.4

    def __init__(self) -> None:
        self.tried = {"start": 0, "end": 0}
        self.found = {"start": 0, "end": 0}

    def add(self, clip: LabelledClip, doc: dict[str, Any]) -> None:
        fps = float(doc["fps"])
        for punch in clip.punches:
            if not punch.get("sure", True):
                continue
            for where, before in (("start", self.MARGIN_S), ("end", self.LENGTH_S - self.MARGIN_S)):
                first = punch["frame"] - round(before * fps)
                count = round(self.LENGTH_S * fps)
                if first < 0 or first + count > doc["frame_count"]:
                    continue
                result = classify_keypoints(_cut(doc, first, count))
                self.tried[where] += 1
                self.found[where] += any(
                    abs(p["frame"] - (punch["frame"] - first)) <= MATCH_TOLERANCE_S * fps
                    for p in result["punches"]
                )

    def report(self) -> None:
        cells = [
            f"{self.found[w]}/{self.tried[w]} = {self.found[w] / self.tried[w]:.2f}" if self.tried[w] else "-"
            for w in ("start", "end")
        ]
        where = f"short clips ({self.LENGTH_S} s, punch {self.MARGIN_S} s from the start | end)"
        print(f"{where}: {cells[0]} | {cells[1]}")


def _cut(doc: dict[str, Any], first: int, count: int) -> dict[str, Any]:
    frames = [
        {**f, "index": f["index"] - first, "t": round(max(f["t"] - doc["frames"][first]["t"], 0.0), 6)}
        for f in doc["frames"][first : first + count]
    ]
    return {**doc, "frame_count": len(frames), "frames": frames}


def evaluate_negatives(videos: list[Path], pose: PoseSetup, cache: Path | None) -> None:
    print()
    print(f"{'non-boxing footage':<44}{'minutes':>8}{'punches':>8}{'per min':>8}{'stance':>10}{'boxer':>8}")
    punches_total, minutes_total = 0, 0.0
    for video in videos:
        run = run_clip(video, pose, cache)
        n, minutes = len(run.punches["punches"]), run.seconds / 60
        punches_total, minutes_total = punches_total + n, minutes_total + minutes
        print(
            f"{video.name:<44}{minutes:>8.2f}{n:>8}{n / minutes:>8.2f}{run.punches['stance']!s:>10}"
            f"{run.boxer_found!s:>8}"
        )
    if minutes_total:
        rate = punches_total / minutes_total
        print(f"{'ALL':<44}{minutes_total:>8.2f}{punches_total:>8}{rate:>8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--realbox", type=Path, help="the clip set (default: $REALBOX_DIR or ../shared/realbox)"
    )
    parser.add_argument("--clips", nargs="*", help="only clips whose file name contains one of these")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--precision", choices=PRECISIONS, default=DEFAULT_PRECISION, help="CPU arithmetic")
    parser.add_argument("--pose-cache", type=Path, help="keep and reuse each clip's keypoints.json here")
    parser.add_argument("--no-negatives", action="store_true", help="skip the non-boxing footage")
    parser.add_argument(
        "--every", type=int, default=1,
        help="keep every Nth frame of each clip's keypoints: the clips at 1/N of their frame rate",
    )  # fmt: skip
    args = parser.parse_args()
    root = args.realbox or realbox_dir()
    clips = labelled_clips(root, args.clips)
    if not clips:
        print(f"no labelled clips under {root}: nothing to evaluate")
        return 0
    start = time.perf_counter()
    pose = PoseSetup(args.model, args.precision)
    rate = f", at 1/{args.every} of each clip's frame rate" if args.every > 1 else ""
    print(f"{len(clips)} real clips from {root}, model {pose}, match ±0.25 s{rate}")
    evaluate_clips(clips, pose, args.pose_cache, args.every)
    if not args.no_negatives:
        evaluate_negatives(non_boxing_videos(), pose, args.pose_cache)
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
