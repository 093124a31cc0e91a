"""Benchmark: pose on every frame (the reference) against pose at a lower rate with interpolated frames.

    uv run python bench/bench_pose_rate.py                       # realbox clips over 40 fps, pose at 25/s
    uv run python bench/bench_pose_rate.py --pose-fps 30 --video phone60.mp4

For each clip, in one run: analysis time of both, their ratio, keypoint agreement with the reference
(mean OKS over everyone the reference found, on the interpolated frames and on all frames), and for
labelled clips the punch F1 of both.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from realbox import LabelledClip, labelled_clips, score_clip

from shadow_trainer.media.video import probe_video
from shadow_trainer.pipeline.analysis import analyze_video
from shadow_trainer.pose.rate import pose_stride
from tests.support.agreement import agreement


def run(video: Path, work: Path, **options: Any) -> tuple[float, dict[str, Any], list[dict[str, Any]]]:
    """(seconds, punches.json, keypoints.json's frames) of one CPU analysis with `options`."""
    start = time.perf_counter()
    result = analyze_video(video, work, device="cpu", **options)
    seconds = time.perf_counter() - start
    punches = json.loads(result.outputs["punches.json"].read_text())
    frames = json.loads(result.outputs["keypoints.json"].read_text())["frames"]
    return seconds, punches, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--video", type=Path, nargs="*", help="clips (default: realbox clips over 40 fps)")
    parser.add_argument("--pose-fps", type=float, default=25.0)
    args = parser.parse_args()
    labelled: dict[str, LabelledClip] = {clip.video.name: clip for clip in labelled_clips()}
    videos = args.video or [clip.video for clip in labelled.values() if clip.fps > 40]
    header = f"{'clip':<40}{'fps':>6}{'stride':>7}{'ref s':>7}{'fast s':>8}{'ratio':>7}{'OKS int':>8}"
    print(header + f"{'OKS all':>8}{'F1 ref':>8}{'F1 fast':>8}{'punches':>9}")
    for video in videos:
        fps = probe_video(video).fps
        with tempfile.TemporaryDirectory(prefix="pose-rate-") as tmp:
            run(video, Path(tmp) / "warm-up", pose_max_fps=0)  # the first analysis loads the model
            ref_s, ref_punches, ref_frames = run(video, Path(tmp) / "ref", pose_max_fps=0)
            fast_s, fast_punches, fast_frames = run(video, Path(tmp) / "fast", pose_max_fps=args.pose_fps)
        oks_interpolated, oks_all = agreement(ref_frames, fast_frames)
        clip = labelled.get(video.name)
        f1 = [f"{score_clip(clip, p).f1:.3f}" if clip else "-" for p in (ref_punches, fast_punches)]
        counts = f"{len(ref_punches['punches'])}/{len(fast_punches['punches'])}"
        stride = pose_stride(fps, args.pose_fps)
        timing = f"{ref_s:>7.1f}{fast_s:>8.1f}{fast_s / ref_s:>7.2f}"
        quality = f"{oks_interpolated:>8.3f}{oks_all:>8.3f}{f1[0]:>8}{f1[1]:>8}{counts:>9}"
        print(f"{video.name[:39]:<40}{fps:>6.1f}{stride:>7}{timing}{quality}")


if __name__ == "__main__":
    main()
