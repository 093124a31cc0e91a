"""Benchmark: is the analysis real time on this CPU? 720p30, 1080p30 and 1080p60, FP32 and INT8.

    uv run python bench/bench_realtime.py                      # ~8 s of real 720p boxing footage
    uv run python bench/bench_realtime.py --video round.mp4 --seconds 20

The clips are made from one real recording (cortistatino's reel in ../shared/realbox by default):
scaled to each size; 60 fps shows each frame twice (the same duration, twice the frames: pose runs
on every frame at the default POSE_MAX_FPS). For each clip and CPU precision, in one run: frames per
second, the real-time factor (analysis time without the model load ÷ video duration; ≤ 1.0 is real
time) and its two big parts (the pose pass and the render pass of ``annotated.mp4``, each ÷ duration),
CPU ms per frame (model load included), and the peak memory of a fresh process (its own VmHWM).
Targets (issue 17): real-time factor ≤ 1.0 for 1080p60 and ≤ 0.5 for 1080p30.
"""

from __future__ import annotations

import argparse
import tempfile
from fractions import Fraction
from pathlib import Path

import av
from bench_pipeline import fresh_process_analysis
from realbox import realbox_dir

SIZES = (("720p30", 1280, 720, 30), ("1080p30", 1920, 1080, 30), ("1080p60", 1920, 1080, 60))
TARGETS = {"1080p30": 0.5, "1080p60": 1.0}


def make_clip(source: Path, out: Path, width: int, height: int, fps: int, seconds: float) -> Path:
    with av.open(str(source)) as inp, av.open(str(out), "w") as dst:
        stream_in = inp.streams.video[0]
        source_fps = float(stream_in.average_rate or 30)
        stream = dst.add_stream("libx264", rate=Fraction(fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        copies = max(1, round(fps / source_fps))
        written = 0
        for index, frame in enumerate(inp.decode(stream_in)):
            if index >= seconds * source_fps:
                break
            for _ in range(copies):
                scaled = frame.reformat(width=width, height=height, format="yuv420p")
                scaled.pts, scaled.time_base = written, Fraction(1, fps)  # numbered at the new rate
                written += 1
                for packet in stream.encode(scaled):
                    dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    default = realbox_dir() / "clips" / "cortistatino__Reel__boxing.mp4"
    parser.add_argument("--video", type=Path, default=default)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--precisions", nargs="*", default=["fp32", "int8"])
    parser.add_argument(
        "--looks", nargs="*", choices=["whole", "crops"], default=["whole", "crops"],
        help="pose on the whole picture every time, or on crops around the people",
    )  # fmt: skip
    args = parser.parse_args()
    print(
        f"clips from {args.video.name}, {args.seconds:.0f} s; model load excluded from the real-time factor"
    )
    print(f"{'clip':<9}{'precision':>10}{'look':>7}{'frames':>8}{'fps':>8}{'RT factor':>11}{'pose':>7}"
          f"{'render':>8}{'CPU ms/f':>10}{'peak MB':>9}{'target':>8}")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-realtime-") as tmp:
        for name, width, height, fps in SIZES:
            clip = make_clip(args.video, Path(tmp) / f"{name}.mp4", width, height, fps, args.seconds)
            for precision in args.precisions:
                for look in args.looks:
                    # A fresh process each: the peak memory is this analysis's alone.
                    out = Path(tmp) / f"out-{name}-{precision}-{look}"
                    r = fresh_process_analysis(clip, out, "cpu", precision, crops=look == "crops")
                    print(_row(name, f"{precision:>10}{look:>7}", r))


def _row(name: str, precision: str, r: dict[str, float]) -> str:
    """`precision`: the precision and look columns, already laid out."""
    work = r["wall"] - r["load_s"]
    factor = work / r["duration"]
    target = TARGETS.get(name)
    verdict = f"≤ {target} {'MET' if factor <= target else 'MISSED'}" if target else ""
    cells = f"{name:<9}{precision}{int(r['frames']):>8}{r['frames'] / work:>8.1f}{factor:>11.2f}"
    # The factor's two big parts: the pose pass and the render pass (annotated.mp4), each ÷ duration.
    cells += f"{r['pose_s'] / r['duration']:>7.2f}{r['render_s'] / r['duration']:>8.2f}"
    return cells + f"{1000 * r['cpu'] / r['frames']:>10.0f}{r['max_rss_kb'] / 1024:>9.0f}  {verdict}"


if __name__ == "__main__":
    main()
