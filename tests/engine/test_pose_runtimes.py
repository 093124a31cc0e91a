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
from tests.support.clips import video_frames


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

    frames = [letterbox_image(bgr, box) for bgr in video_frames(vtest_path, 4, start=550)]
    total = 0
    for onnx_people, torch_people in zip(
        onnx_estimator.estimate_batch(frames, [box] * len(frames)),
        torch_estimator.estimate_batch(frames, [box] * len(frames)),
        strict=True,
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


# COCO's per-keypoint OKS constants (nose … ankles).
OKS_SIGMAS = np.array([0.26, 0.25, 0.25, 0.35, 0.35, 0.79, 0.79, 0.72, 0.72, 0.62, 0.62, 1.07, 1.07,
                       0.87, 0.87, 0.89, 0.89]) / 10  # fmt: skip


def _keypoint_similarity(
    reference: PoseDetections, candidate: PoseDetections, min_score: float = 0.0
) -> list[float]:
    """For each person of `reference` scored ≥ `min_score`: the OKS of the best-matching person of
    `candidate` (0: none)."""
    found = []
    for box, keypoints, score in zip(reference.boxes, reference.keypoints, reference.scores, strict=True):
        if score < min_score:
            continue
        area = max(float((box[2] - box[0]) * (box[3] - box[1])), 1.0)
        visible = keypoints[:, 2] > 0.5
        best = 0.0
        for other in candidate.keypoints:
            d2 = ((keypoints[:, :2] - other[:, :2]) ** 2).sum(axis=1)
            best = max(best, float(np.exp(-d2 / (2 * area * (2 * OKS_SIGMAS) ** 2))[visible].mean()))
        found.append(best)
    return found


def test_int8_model_finds_the_same_people_as_fp32(
    vtest_path: Path,
    image_paths: dict[str, Path],
    onnx_estimator: PoseEstimator,
    int8_estimator: PoseEstimator,
) -> None:
    """On footage it was not calibrated on (a photo, a street video): the people FP32 is sure of
    (score ≥ 0.5) are found with nearly the same keypoints. Scores come out a little lower, so a
    borderline person (0.42 in FP32, a small pedestrian far off) may fall under the threshold."""
    assert (onnx_estimator.runtime.name, int8_estimator.runtime.name) == ("onnx", "onnx-int8")
    from shadow_trainer.pose.preprocess import letterbox_image

    box = onnx_estimator.letterbox(768, 576)
    frames = [letterbox_image(bgr, box) for bgr in video_frames(vtest_path, 4, start=550)]
    pairs = list(
        zip(
            onnx_estimator.estimate_batch(frames, [box] * len(frames)),
            int8_estimator.estimate_batch(frames, [box] * len(frames)),
            strict=True,
        )
    )
    messi = read_image(image_paths["messi"])
    pairs.append((onnx_estimator.estimate_image(messi), int8_estimator.estimate_image(messi)))
    similarity = []
    for reference, quantised in pairs:
        similarity += _keypoint_similarity(reference, quantised, min_score=0.5)
        assert np.abs(np.sort(reference.scores)[-2:] - np.sort(quantised.scores)[-2:]).max() < 0.15
    assert len(similarity) >= 9
    assert min(similarity) >= 0.95, similarity


def test_int8_model_is_made_once_and_cached(
    onnx_estimator: PoseEstimator, int8_estimator: PoseEstimator
) -> None:
    from shadow_trainer.pose.models import model_folder
    from shadow_trainer.pose.quantize import quantized_onnx

    fp32 = onnx_export.exported_onnx(
        resolve_model("yolo11n-pose"), imgsz=640,
        cache_dir=onnx_export.default_cache_dir(resolve_model("yolo11n-pose"), model_folder(None)),
    )  # fmt: skip
    int8 = quantized_onnx(fp32, imgsz=640)
    before = int8.stat().st_mtime_ns
    assert quantized_onnx(fp32, imgsz=640) == int8 and int8.stat().st_mtime_ns == before
    assert int8.stat().st_size < fp32.stat().st_size / 2  # 8-bit weights
    assert not list(fp32.parent.glob(".quantise-*"))  # no half-made leftovers


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
