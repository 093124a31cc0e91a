"""Real test footage and short clips made from it with PyAV, so every test video is small and its
properties (size, rotation, codec, frame count) are known exactly."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
from av.video.stream import VideoStream

OPENCV_DOC_DATA = Path("/usr/share/doc/opencv-doc/examples/data")
VTEST = OPENCV_DOC_DATA / "vtest.avi"  # people walking, 768×576, 10 fps (Debian opencv-doc)


def opencv_doc_file(name: str) -> Path | None:
    """A sample file of Debian's opencv-doc (wherever the package put it), None when absent."""
    listing = subprocess.run(["dpkg", "-L", "opencv-doc"], capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        if line.endswith("/" + name):
            return Path(line)
    fallback = OPENCV_DOC_DATA / name
    return fallback if fallback.is_file() else None


def video_frames(video: Path, count: int, start: int = 0) -> Iterator[np.ndarray]:
    """``count`` BGR frames of ``video`` from frame ``start``."""
    with av.open(str(video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i >= start + count:
                return
            if i >= start:
                yield frame.to_ndarray(format="bgr24")


def frame_rate(video: Path) -> float:
    with av.open(str(video)) as container:
        return float(container.streams.video[0].average_rate or 10)


def write_clip(
    path: Path,
    frames: Iterator[np.ndarray],
    *,
    fps: float = 10.0,
    size: tuple[int, int] | None = None,
    rotation: int = 0,
    codec: str = "libx264",
) -> Path:
    """Encode BGR frames into ``path`` (optionally resized, with a display-rotation tag)."""
    with av.open(str(path), mode="w") as out:
        stream = cast(VideoStream, out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001)))
        first = True
        for bgr in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(bgr), format="bgr24")
            if size is not None:
                frame = frame.reformat(width=size[0], height=size[1])
            if first:
                stream.width, stream.height = frame.width, frame.height
                stream.pix_fmt = (
                    "yuv444p" if codec == "libx264" and (frame.width % 2 or frame.height % 2) else "yuv420p"
                )
                if rotation:
                    stream.set_display_rotation(rotation)
                first = False
            for packet in stream.encode(frame.reformat(format=stream.pix_fmt)):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def cut_clip(source: Path, destination: Path, frames: int) -> Path:
    """The first ``frames`` frames of real footage as an H.264 MP4 at the source's frame rate."""
    return write_clip(destination, video_frames(source, frames), fps=frame_rate(source))
