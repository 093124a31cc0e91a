"""Benchmark: the CPU's fast paths against the full-picture FP32 reference, whole pipeline, on real
boxing footage. A fast path is INT8 arithmetic (``int8``), pose looking only at a crop around the
people it found (``crops``), or both (``int8+crops``).

    uv run python bench/bench_fast_paths.py                        # crops, every labelled realbox clip
    uv run python bench/bench_fast_paths.py --fast int8 crops --clips Dkudur --video match.mp4

For each clip, in one run, one after the other: analysis time of the reference and of each fast path
and their ratio, keypoint agreement with the reference (mean OKS over everyone the reference found),
and for labelled clips the punch F1 of each; then the totals (time ratio over all clips, F1 over all
labelled punches). Targets (issue 17): mean OKS ≥ 0.90, F1 within 0.02 of the reference.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from bench_pose_rate import run
from realbox import LabelledClip, Score, labelled_clips, score_clip

from tests.support.agreement import agreement

REFERENCE: dict[str, Any] = {"pose_precision": "fp32", "pose_crops": False}
FAST_PATHS: dict[str, dict[str, Any]] = {
    "int8": {"pose_precision": "int8", "pose_crops": False},
    "crops": {"pose_precision": "fp32", "pose_crops": True},
    "int8+crops": {"pose_precision": "int8", "pose_crops": True},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--fast", nargs="*", choices=sorted(FAST_PATHS), default=["crops"])
    parser.add_argument("--clips", nargs="*", help="only labelled clips whose name contains one of these")
    parser.add_argument("--video", type=Path, nargs="*", default=[], help="more (unlabelled) videos")
    args = parser.parse_args()
    labelled: dict[str, LabelledClip] = {clip.video.name: clip for clip in labelled_clips(names=args.clips)}
    videos = [clip.video for clip in labelled.values()] + list(args.video)
    paths = {"reference": REFERENCE, **{name: FAST_PATHS[name] for name in args.fast}}
    fast = list(args.fast)
    print(f"{'clip':<40}{'ref s':>7}" + "".join(f"{n + ' ×':>13}{'OKS':>7}{'F1':>7}" for n in fast)
          + f"{'F1 ref':>8}")  # fmt: skip
    seconds = {name: 0.0 for name in paths}
    scores = {name: Score() for name in paths}
    similarity: dict[str, list[float]] = {name: [] for name in fast}
    with tempfile.TemporaryDirectory(prefix="fast-paths-") as tmp:
        for name, options in paths.items():  # the first analysis of a process loads (and quantises) the model
            run(videos[0], Path(tmp) / f"warm-up-{name}", **options)
        for video in videos:
            runs = {
                name: run(video, Path(tmp) / f"{video.name}-{name}", **options)
                for name, options in paths.items()
            }
            ref_s, _, ref_frames = runs["reference"]
            clip = labelled.get(video.name)
            f1 = dict.fromkeys(paths, "-")
            cells = ""
            for name in paths:
                s, punches, frames = runs[name]
                seconds[name] += s
                if clip:
                    score = score_clip(clip, punches)
                    scores[name].add(score)
                    f1[name] = f"{score.f1:.3f}"
                if name != "reference":
                    oks = agreement(ref_frames, frames)[1]
                    similarity[name].append(oks)
                    cells += f"{s / ref_s:>13.2f}{oks:>7.3f}{f1[name]:>7}"
            print(f"{video.name[:39]:<40}{ref_s:>7.1f}{cells}{f1['reference']:>8}")
    print()
    for name in fast:
        ratio = seconds[name] / seconds["reference"]
        print(f"{name}: time ratio {ratio:.2f} ({seconds[name]:.0f} s vs {seconds['reference']:.0f} s), "
              f"mean OKS {np.nanmean(similarity[name]):.3f} (target ≥ 0.90), punch F1 {scores[name].f1:.3f} "
              f"vs {scores['reference'].f1:.3f} (target within 0.02)")  # fmt: skip


if __name__ == "__main__":
    main()
