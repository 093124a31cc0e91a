"""Pose estimation: both runtimes agree with each other and with Ultralytics; models resolve by name."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from shadow_trainer.errors import AnalysisError, ModelNotFoundError
from shadow_trainer.pose import (
    PoseDetections,
    PoseEstimator,
    available_models,
    choose_runtime,
    onnx_export,
    resolve_model,
)
from shadow_trainer.pose.estimator import cuda_available

from .conftest import vtest_frames


def read_image(path: Path) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None, f"cannot read {path}"
    return image


KEYPOINT_TOLERANCE_PX = 1.5  # fp32 ONNX Runtime vs torch on CPU differ by float rounding only
SCORE_TOLERANCE = 0.01


def _assert_same_people(a: PoseDetections, b: PoseDetections) -> None:
    assert len(a) == len(b)
    assert np.abs(a.scores - b.scores).max(initial=0) < SCORE_TOLERANCE
    assert np.abs(a.boxes - b.boxes).max(initial=0) < KEYPOINT_TOLERANCE_PX
    assert np.abs(a.keypoints[..., :2] - b.keypoints[..., :2]).max(initial=0) < KEYPOINT_TOLERANCE_PX
    assert np.abs(a.keypoints[..., 2] - b.keypoints[..., 2]).max(initial=0) < SCORE_TOLERANCE


@pytest.mark.parametrize("name", ["bus", "zidane", "messi"])
def test_onnx_and_torch_agree_on_images(
    name: str, image_paths: dict[str, Path], onnx_estimator: PoseEstimator, torch_estimator: PoseEstimator
) -> None:
    image = read_image(image_paths[name])
    onnx_people = onnx_estimator.estimate_image(image)
    _assert_same_people(onnx_people, torch_estimator.estimate_image(image))
    assert len(onnx_people) >= 1


def test_onnx_and_torch_agree_on_video_frames(
    vtest_path: Path, onnx_estimator: PoseEstimator, torch_estimator: PoseEstimator
) -> None:
    box = onnx_estimator.letterbox(768, 576)
    from shadow_trainer.pose.preprocess import letterbox_image

    frames = [letterbox_image(bgr, box) for bgr in vtest_frames(vtest_path, 4, start=550)]
    total = 0
    for onnx_people, torch_people in zip(
        onnx_estimator.estimate_batch(frames, box), torch_estimator.estimate_batch(frames, box), strict=True
    ):
        _assert_same_people(onnx_people, torch_people)
        total += len(onnx_people)
    assert total >= 8  # two or three pedestrians in every frame


def test_matches_ultralytics_predict(
    image_paths: dict[str, Path], weights: Path, onnx_estimator: PoseEstimator
) -> None:
    from ultralytics import YOLO

    image = read_image(image_paths["bus"])
    predictions: Any = YOLO(str(weights), task="pose").predict(image, verbose=False, device="cpu")
    reference = predictions[0]
    ours = onnx_estimator.estimate_image(image)
    assert len(ours) == len(reference.boxes)
    np.testing.assert_allclose(ours.boxes, reference.boxes.xyxy.numpy(), atol=KEYPOINT_TOLERANCE_PX)
    np.testing.assert_allclose(ours.keypoints, reference.keypoints.data.numpy(), atol=KEYPOINT_TOLERANCE_PX)


def test_keypoints_lie_on_the_people(image_paths: dict[str, Path], onnx_estimator: PoseEstimator) -> None:
    people = onnx_estimator.estimate_image(read_image(image_paths["zidane"]))
    for box, keypoints in zip(people.boxes, people.keypoints, strict=True):
        confident = keypoints[keypoints[:, 2] > 0.5]
        assert len(confident) >= 5
        assert (confident[:, 0] >= box[0] - 20).all() and (confident[:, 0] <= box[2] + 20).all()


def test_available_models_and_resolution(tmp_path: Path, weights: Path) -> None:
    assert "yolo11n-pose" in available_models()
    assert resolve_model("yolo11n-pose") == weights
    shutil.copyfile(weights, tmp_path / "yolo11s-pose.pt")
    assert available_models(tmp_path) == ["yolo11n-pose", "yolo11s-pose"]
    assert resolve_model("yolo11s-pose", tmp_path) == tmp_path / "yolo11s-pose.pt"
    assert resolve_model("yolo11s-pose.pt", tmp_path) == tmp_path / "yolo11s-pose.pt"


def test_model_dir_from_environment(tmp_path: Path, weights: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copyfile(weights, tmp_path / "yolo11m-pose.pt")
    monkeypatch.setenv("SHADOW_MODEL_DIR", str(tmp_path))
    assert resolve_model("yolo11m-pose") == tmp_path / "yolo11m-pose.pt"


@pytest.mark.parametrize("name", ["yolo11x-pose", "../etc/passwd", ""])
def test_unknown_model_lists_available(name: str, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        resolve_model(name, tmp_path)
    assert err.value.code == "model_not_found"
    if name == "yolo11x-pose":
        assert "yolo11n-pose" in err.value.message


def test_device_choice() -> None:
    assert choose_runtime("cpu") == ("onnx", "cpu")
    if cuda_available():
        assert choose_runtime("gpu") == ("torch", "cuda")
        assert choose_runtime("auto") == ("torch", "cuda")
    else:
        assert choose_runtime("auto") == ("onnx", "cpu")
        with pytest.raises(AnalysisError) as err:
            choose_runtime("gpu")
        assert err.value.code == "gpu_unavailable"
    with pytest.raises(AnalysisError):
        choose_runtime("tpu")


def _slow_fake_export(weights: Path, imgsz: int, work_dir: Path) -> Path:
    out = work_dir / "model.onnx"
    with out.open("wb") as fh:
        for _ in range(20):  # written slowly: a reader must never see a partial file
            fh.write(b"x" * 1000)
            fh.flush()
            time.sleep(0.01)
    with (work_dir.parent / "exports.log").open("a") as log:
        log.write(f"{os.getpid()}\n")
    return out


def _export_in_process(weights: str, cache: str, results: Any) -> None:
    onnx_export._export = _slow_fake_export  # the real export takes ~20 s; the locking is what is tested
    results.put(str(onnx_export.exported_onnx(Path(weights), imgsz=640, cache_dir=Path(cache))))


def test_concurrent_exports_produce_one_complete_file(tmp_path: Path, weights: Path) -> None:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_export_in_process, args=(str(weights), str(tmp_path), results))
        for _ in range(3)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    paths = {results.get(timeout=5) for _ in workers}
    assert len(paths) == 1
    (path,) = paths
    assert Path(path).stat().st_size == 20_000
    assert (tmp_path / "exports.log").read_text().count("\n") == 1  # exported once, the others waited
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export-")]  # no leftovers
