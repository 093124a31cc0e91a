"""Videos that lie or bomb: huge declared frames, raw streams without a duration, frames that grow."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def write_h264(path: Path, segments: list[tuple[int, int, int]], fps: int = 30, raw: bool = False) -> Path:
    """Black frames, ``(width, height, count)`` per segment, each segment its own H.264 stream.

    ``raw`` writes an Annex B ``.h264`` stream (no container, so no duration); several segments are
    concatenated streams, so the frame size changes mid-way as a hostile upload's may.
    """
    data = b""
    for index, (width, height, count) in enumerate(segments):
        part = path.with_name(f"{path.stem}.part{index}{path.suffix}")
        with av.open(str(part), "w", format="h264" if raw else None) as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
            stream.options = {"preset": "ultrafast"}
            black = np.zeros((height * 3 // 2, width), np.uint8)
            for _ in range(count):
                for packet in stream.encode(av.VideoFrame.from_ndarray(black, format="yuv420p")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        data += part.read_bytes()
        part.unlink()
    assert raw or len(segments) == 1, "only raw streams can be concatenated"
    path.write_bytes(data)
    return path


def pixel_bomb(path: Path) -> Path:
    """One 16000×16000 frame in an MP4 of under 1 MB: decoding it takes about 400 MB per buffer."""
    return write_h264(path, [(16000, 16000, 1)])


def raw_long_stream(path: Path, seconds: float) -> Path:
    """A raw .h264 stream lasting ``seconds`` at 30 fps that probes as 0.04 s (no container duration)."""
    return write_h264(path.with_suffix(".h264"), [(64, 48, round(seconds * 30))], raw=True)


def growing_stream(path: Path) -> Path:
    """A small first frame, then 8K frames, in one raw .h264 stream."""
    return write_h264(path.with_suffix(".h264"), [(64, 48, 10), (7680, 4320, 3)], raw=True)


def frozen_clock(path: Path, count: int = 30, fps: int = 15) -> Path:
    """An MP4 whose frames all carry timestamp 0 (some re-encoders write them so: a frame that has a
    time base but no timestamp is muxed at 0); only the declared rate tells the frames apart. A
    bright square moves across, so each frame differs."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(count):
            picture = np.zeros((48 * 3 // 2, 64), np.uint8)
            picture[10:20, i % 54 : i % 54 + 10] = 255
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.time_base = Fraction(1, 15360)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
