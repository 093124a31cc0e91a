"""``analyze_video``: one video in, the four job outputs out.

1. probe + load the pose model;
2. pose pass (decode ‖ inference ‖ tracking/keypoints.json, see ``pose_pass``);
3. punch analysis of everyone who boxes (from the pose log, as ``keypoints.json`` would give it);
4. render pass (decode ‖ draw ‖ encode, see ``render_pass``), punches.json, summary.json;
then everything is moved from a staging folder into ``out_dir`` at once.

Bad input: zero-byte, non-video, audio-only and unreadable/truncated-at-start files raise
``InvalidVideoError`` (``invalid_video``) before any work. A stream that breaks mid-way is
*not* an error: the frames decoded before the break are analysed, the outputs are complete for
them, and ``summary.json`` says where decoding stopped (``decode_error``), because a cut-short
upload (phone, flaky network) still holds a useful session. Nobody in view gives valid outputs
with empty ``people`` lists and no punches.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shadow_trainer.documents.outputs import publish, staging_dir
from shadow_trainer.documents.pose_log import PoseLog
from shadow_trainer.documents.punches_document import PunchesDocument
from shadow_trainer.documents.summary import build_summary
from shadow_trainer.documents.summary_document import SummaryDocument
from shadow_trainer.errors import AnalysisError
from shadow_trainer.media.video import NO_LIMITS, VideoInfo, VideoLimits, probe_video
from shadow_trainer.pipeline.pose_pass import PosePassResult, run_pose_pass
from shadow_trainer.pipeline.progress import Progress
from shadow_trainer.pipeline.render_pass import render_annotated
from shadow_trainer.pose import PoseEstimator, load_pose_estimator
from shadow_trainer.pose.options import DEFAULT_MODEL, DEFAULT_PRECISION, Precision
from shadow_trainer.pose.rate import POSE_FPS, pose_stride
from shadow_trainer.punches import classify_tracks, summarize_punches
from shadow_trainer.tracking.series import from_rows

log = logging.getLogger(__name__)


@dataclass
class AnalysisResult:
    video: VideoInfo
    outputs: dict[str, Path]
    summary: SummaryDocument
    frames_per_second: float
    stage_seconds: dict[str, float]


class _StageClock:
    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 4)


def _classify(info: VideoInfo, pose: PosePassResult, pose_log: PoseLog) -> PunchesDocument:
    """punches.json from the pose log: the same series ``keypoints.json`` would give."""
    series = from_rows(
        pose_log.sightings(),
        fps=info.fps,
        width=info.width,
        height=info.height,
        frame_count=pose.frames,
        times=pose.timestamps,
    )
    return classify_tracks(series)


def _write_json(path: Path, doc: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(doc, indent=None, separators=(",", ":")), encoding="utf-8")


def _analyze(
    video: Path,
    info: VideoInfo,
    estimator: PoseEstimator,
    work: Path,
    progress: Progress,
    clock: _StageClock,
    limits: VideoLimits,
    stride: int,
    crops: bool,
) -> SummaryDocument:
    progress.stage("analyzing")
    with clock("analyzing"):
        pose = run_pose_pass(
            video,
            info,
            estimator,
            keypoints_path=work / "keypoints.json",
            pose_log_path=work / "pose.log",
            progress=progress,
            limits=limits,
            stride=stride,
            crops=crops,
        )
    progress.stage("classifying")
    pose_log = PoseLog(work / "pose.log")
    duration = pose.timestamps[-1] + 1 / info.fps if pose.frames else 0.0
    with clock("classifying"):
        punches = _classify(info, pose, pose_log)
        punch_summary = summarize_punches(punches, duration_s=duration)
    progress.stage("writing")
    with clock("writing"):
        render_annotated(
            video,
            info,
            frames=pose.frames,
            pose_log=pose_log,
            main_track=punches["main_track_id"],
            punches=punches["punches"],
            out_path=work / "annotated.mp4",
            progress=progress,
        )
        _write_json(work / "punches.json", punches)
    elapsed = sum(clock.seconds.get(s, 0.0) for s in ("analyzing", "classifying", "writing"))
    summary = build_summary(
        punch_summary,
        video=info,
        duration=duration,
        model=estimator.model,
        runtime=estimator.runtime.name,
        device=estimator.runtime.device,
        frames_analyzed=pose.frames,
        pose_frames=pose.pose_frames,
        pose_crop_frames=pose.crop_frames,
        processing_fps=pose.frames / elapsed if elapsed > 0 else 0.0,
        people_tracked=pose.people_tracked,
        decode_error=pose.decode_error,
    )
    _write_json(work / "summary.json", summary)
    return summary


def analyze_video(
    video: Path,
    out_dir: Path,
    *,
    model: str = DEFAULT_MODEL,
    device: str = "auto",
    model_dir: Path | None = None,
    progress: Callable[[str, float], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    limits: VideoLimits = NO_LIMITS,
    pose_max_fps: float | None = POSE_FPS,
    pose_precision: Precision = DEFAULT_PRECISION,
    pose_crops: bool = True,
) -> AnalysisResult:
    """Analyse ``video`` and write annotated.mp4, keypoints.json, punches.json, summary.json to ``out_dir``.

    Pose runs about ``pose_max_fps`` times a second of video (None or 0: on every frame); the frames
    between get interpolated keypoints. ``pose_precision`` int8: the quantised model on CPU.
    ``pose_crops``: after a look at the whole picture, pose looks only around the people it found
    (``pipeline/regions.py``), on CPU.

    Raises ``InvalidVideoError`` (``VideoLimitError`` past ``limits``, checked while decoding),
    ``ModelNotFoundError``, ``AnalysisCancelled`` or ``AnalysisError`` (codes ``gpu_unavailable``,
    ``analysis_failed``...); then ``out_dir`` gets nothing.
    """
    video, out_dir = Path(video), Path(out_dir)
    reporter = Progress(progress, should_cancel)
    clock = _StageClock()
    reporter.stage("loading_model")
    try:
        with clock("loading_model"):
            info = probe_video(video, limits)
            estimator = load_pose_estimator(
                model, device=device, model_dir=model_dir, precision=pose_precision
            )
            estimator.warm_up(estimator.letterbox(info.width, info.height))
        reporter.check_cancel()
        with staging_dir(out_dir) as work:
            stride = pose_stride(info.fps, pose_max_fps)
            summary = _analyze(video, info, estimator, work, reporter, clock, limits, stride, pose_crops)
            outputs = publish(work, out_dir)
    except AnalysisError:
        raise
    except Exception as exc:  # the service shows ``code: message``; keep the cause chained for logs
        log.exception("analysis of %s failed", video.name)
        raise AnalysisError(f"{type(exc).__name__}: {exc}", code="analysis_failed") from exc
    reporter.stage("done")
    return AnalysisResult(
        video=info,
        outputs=outputs,
        summary=summary,
        frames_per_second=float(summary["processing_fps"]),
        stage_seconds=dict(clock.seconds),
    )
