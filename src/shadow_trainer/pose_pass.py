"""Pass 1: decode ‖ pose inference ‖ tracking and keypoint writing, in three threads."""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from av.video.reformatter import VideoReformatter

from shadow_trainer.keypoints_writer import KeypointsWriter
from shadow_trainer.pose import Letterbox, PoseDetections, PoseEstimator
from shadow_trainer.pose.preprocess import letterbox_video_frame
from shadow_trainer.pose_log import PoseLogWriter
from shadow_trainer.prefetch import BackgroundWorker, Prefetcher
from shadow_trainer.progress import Progress
from shadow_trainer.tracking import tracker_for
from shadow_trainer.video import NO_LIMITS, DecodeReport, VideoInfo, VideoLimits, iter_frames

CANCEL_POLL_FRAMES = 8


@dataclass(frozen=True)
class PosePassResult:
    frames: int
    timestamps: array  # seconds, per decoded frame (8 bytes a frame)
    decode_error: str | None
    people_tracked: int


@dataclass(frozen=True)
class _Input:
    index: int
    t: float
    rgb: np.ndarray


def _model_inputs(
    video: Path, info: VideoInfo, box: Letterbox, report: DecodeReport, limits: VideoLimits
) -> Iterator[_Input]:
    reformatter = VideoReformatter()
    for decoded in iter_frames(video, info, report, limits):
        yield _Input(
            decoded.index, decoded.t, letterbox_video_frame(decoded.frame, box, info.rotation, reformatter)
        )


def _batches(items: Iterator[_Input], size: int) -> Iterator[list[_Input]]:
    batch: list[_Input] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class _FrameSink:
    """Runs in the writer thread: tracking, keypoints.json, the pose log, main-boxer scoring."""

    def __init__(self, info: VideoInfo, keypoints_path: Path, pose_log_path: Path) -> None:
        self.tracker = tracker_for(info.fps)
        self.keypoints = KeypointsWriter(keypoints_path, fps=info.fps, width=info.width, height=info.height)
        self.pose_log = PoseLogWriter(pose_log_path)
        self.track_ids: set[int] = set()
        self.timestamps = array("d")

    def __call__(self, item: tuple[int, float, PoseDetections]) -> None:
        index, t, people = item
        ids = self.tracker.update(people.boxes)
        self.keypoints.add(index, t, ids, people)
        self.pose_log.write(index, ids, people)
        self.track_ids.update(ids)
        self.timestamps.append(t)

    def close(self) -> None:
        self.keypoints.close()
        self.pose_log.close()


def run_pose_pass(
    video: Path,
    info: VideoInfo,
    estimator: PoseEstimator,
    *,
    keypoints_path: Path,
    pose_log_path: Path,
    progress: Progress,
    limits: VideoLimits = NO_LIMITS,
) -> PosePassResult:
    box = estimator.letterbox(info.width, info.height)
    report = DecodeReport()
    sink = _FrameSink(info, keypoints_path, pose_log_path)
    writer = BackgroundWorker(sink, depth=64, name="pose-writer")
    depth = (estimator.runtime.streams + 1) * estimator.batch_size + 2
    try:
        with Prefetcher(
            _model_inputs(video, info, box, report, limits), depth=depth, name="decode"
        ) as frames:
            batches = (
                ([item.rgb for item in batch], batch)
                for batch in _batches(iter(frames), estimator.batch_size)
            )
            done = 0
            for people, batch in estimator.stream(batches, box):
                for item, found in zip(batch, people, strict=True):
                    writer.submit((item.index, item.t, found))
                previous, done = done, done + len(batch)
                if done // CANCEL_POLL_FRAMES != previous // CANCEL_POLL_FRAMES:
                    progress.check_cancel()
                progress.within(done / max(info.frames, 1))
    finally:
        writer.finish()
        sink.close()
    return PosePassResult(
        frames=report.frames,
        timestamps=sink.timestamps,
        decode_error=report.error,
        people_tracked=len(sink.track_ids),
    )
