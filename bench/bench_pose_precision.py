"""Benchmark: the INT8 pose model against the FP32 reference, whole pipeline, on real boxing footage.

    uv run python bench/bench_pose_precision.py                 # every labelled realbox clip
    uv run python bench/bench_pose_precision.py --clips Dkudur --video match.mp4

For each clip, in one run, one after the other: analysis time with each precision and their ratio,
keypoint agreement of INT8 with FP32 (mean OKS over everyone FP32 found), and for labelled clips the
punch F1 of both; then the totals (time ratio over all clips, F1 over all labelled punches).
Targets (issue 17): mean OKS ≥ 0.90, F1 within 0.02 of the reference.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from bench_pose_rate import agreement, run
from realbox import LabelledClip, Score, labelled_clips, score_clip

from shadow_trainer.pose.options import PRECISIONS


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--clips", nargs="*", help="only labelled clips whose name contains one of these")
    parser.add_argument("--video", type=Path, nargs="*", default=[], help="more (unlabelled) videos")
    args = parser.parse_args()
    labelled: dict[str, LabelledClip] = {clip.video.name: clip for clip in labelled_clips(names=args.clips)}
    videos = [clip.video for clip in labelled.values()] + list(args.video)
    header = f"{'clip':<40}{'fp32 s':>8}{'int8 s':>8}{'ratio':>7}{'OKS':>7}"
    print(header + f"{'F1 fp32':>9}{'F1 int8':>9}{'punches':>9}")
    seconds = {precision: 0.0 for precision in PRECISIONS}
    scores = {precision: Score() for precision in PRECISIONS}
    similarity = []
    with tempfile.TemporaryDirectory(prefix="pose-precision-") as tmp:
        for precision in PRECISIONS:  # the first analysis of a process loads (and quantises) the model
            run(videos[0], Path(tmp) / f"warm-up-{precision}", pose_precision=precision)
        for video in videos:
            runs = {p: run(video, Path(tmp) / f"{video.name}-{p}", pose_precision=p) for p in PRECISIONS}
            ref_s, ref_punches, ref_frames = runs["fp32"]
            fast_s, fast_punches, fast_frames = runs["int8"]
            oks = agreement(ref_frames, fast_frames)[1]
            similarity.append(oks)
            clip = labelled.get(video.name)
            f1 = ["-", "-"]
            if clip:
                for i, (precision, punches) in enumerate(
                    zip(PRECISIONS, (ref_punches, fast_punches), strict=True)
                ):
                    score = score_clip(clip, punches)
                    scores[precision].add(score)
                    f1[i] = f"{score.f1:.3f}"
            seconds["fp32"] += ref_s
            seconds["int8"] += fast_s
            counts = f"{len(ref_punches['punches'])}/{len(fast_punches['punches'])}"
            print(f"{video.name[:39]:<40}{ref_s:>8.1f}{fast_s:>8.1f}{fast_s / ref_s:>7.2f}{oks:>7.3f}"
                  f"{f1[0]:>9}{f1[1]:>9}{counts:>9}")  # fmt: skip
    ratio = seconds["int8"] / seconds["fp32"]
    f1_ref, f1_fast = scores["fp32"].f1, scores["int8"].f1
    print(f"{'ALL':<40}{seconds['fp32']:>8.1f}{seconds['int8']:>8.1f}{ratio:>7.2f}{np.nanmean(similarity):>7.3f}"
          f"{f1_ref:>9.3f}{f1_fast:>9.3f}")  # fmt: skip
    print(f"\nmean OKS {np.nanmean(similarity):.3f} (target ≥ 0.90); F1 {f1_fast:.3f} vs {f1_ref:.3f} "
          f"(target within 0.02); time ratio {ratio:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
