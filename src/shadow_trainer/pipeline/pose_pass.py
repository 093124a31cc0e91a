"""Pass 1: decode ‖ pose inference ‖ tracking and keypoint writing, in three threads.

Pose runs on every `stride`-th frame (`pose_stride`: at most about 60 a second by default); the frames
between get each person's keypoints interpolated from the two inferred frames around them (flagged
`interpolated` in keypoints.json), so every frame is tracked and drawn. Fewer than the punch features'
30 a second is not free: on a 50 fps boxing clip, pose 25 times a second found 12 of its 17 punches
where every frame found 17 (bench/bench_pose_rate.py), so the default only thins out slow motion.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from av.video.reformatter import VideoReformatter

from shadow_trainer.documents.keypoints_writer import KeypointsWriter
from shadow_trainer.documents.pose_log import PoseLogWriter
from shadow_trainer.media.video import NO_LIMITS, DecodeReport, VideoInfo, VideoLimits, iter_frames
from shadow_trainer.pipeline.prefetch import BackgroundWorker, Prefetcher
from shadow_trainer.pipeline.progress import Progress
from shadow_trainer.pipeline.regions import RegionPlanner
from shadow_trainer.pose import Letterbox, PoseDetections, PoseEstimator
from shadow_trainer.pose.detections import keypoints_between
from shadow_trainer.pose.preprocess import letterbox_video_frame
from shadow_trainer.tracking.tracker import tracker_for

CANCEL_POLL_FRAMES = 8


@dataclass(frozen=True)
class PosePassResult:
    frames: int
    pose_frames: int  # frames pose ran on (every `stride`-th)
    crop_frames: int  # of those, the ones where pose looked only around the people (regions.py)
    timestamps: array  # seconds, per decoded frame (8 bytes a frame)
    decode_error: str | None
    people_tracked: int


Moment = tuple[int, float]  # frame index, seconds


@dataclass(frozen=True)
class _Input:
    index: int
    t: float
    rgb: np.ndarray  # the model input: the letterboxed picture, or the crop of it `view` says
    view: Letterbox
    skipped_before: list[Moment]  # frames since the previous inferred one, without pose


def _model_inputs(
    video: Path,
    info: VideoInfo,
    regions: RegionPlanner,
    report: DecodeReport,
    limits: VideoLimits,
    stride: int,
    trailing: list[Moment],
) -> Iterator[_Input]:
    """Model inputs of every `stride`-th frame; the frames after the last one go to `trailing`."""
    reformatter = VideoReformatter()
    skipped: list[Moment] = []
    box = regions.box
    inferred = 0
    for decoded in iter_frames(video, info, report, limits):
        if decoded.index % stride:
            skipped.append((decoded.index, decoded.t))
            continue
        rgb = letterbox_video_frame(decoded.frame, box, info.rotation, reformatter)
        view = regions.view(inferred)
        inferred += 1
        if view is not box:  # a crop: a view of the same array, at the same scale
            left, top = box.pad_left - view.pad_left, box.pad_top - view.pad_top
            rgb = rgb[top : top + view.input_height, left : left + view.input_width]
        yield _Input(decoded.index, decoded.t, rgb, view, skipped)
        skipped = []
    trailing.extend(skipped)


def _batches(items: Iterator[_Input], size: int) -> Iterator[list[_Input]]:
    batch: list[_Input] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def interpolate_people(
    before: tuple[list[int], PoseDetections], after: tuple[list[int], PoseDetections], weight: float
) -> tuple[list[int], PoseDetections]:
    """The people tracked in both frames, `weight` (0..1) of the way from `before` to `after`: boxes and
    keypoint positions linear, scores and keypoint confidences the lower of the two."""
    ids_before, people_before = before
    ids_after, people_after = after
    where_after = {track: i for i, track in enumerate(ids_after)}
    pairs = [(i, where_after[track]) for i, track in enumerate(ids_before) if track in where_after]
    if not pairs:
        return [], PoseDetections.empty()
    a, b = (np.array(side) for side in zip(*pairs, strict=True))
    keypoints = keypoints_between(people_before.keypoints[a], people_after.keypoints[b], weight)
    return [ids_before[i] for i in a], PoseDetections(
        boxes=people_before.boxes[a] * (1 - weight) + people_after.boxes[b] * weight,
        scores=np.minimum(people_before.scores[a], people_after.scores[b]),
        keypoints=keypoints.astype(np.float32),
    )


class _FrameSink:
    """Runs in the writer thread: tracking, keypoints.json, the pose log, main-boxer scoring.

    Frames without pose wait until the next inferred frame, then get interpolated people."""

    def __init__(self, info: VideoInfo, keypoints_path: Path, pose_log_path: Path, stride: int) -> None:
        self.tracker = tracker_for(info.fps / stride)
        self.keypoints = KeypointsWriter(keypoints_path, fps=info.fps, width=info.width, height=info.height)
        self.pose_log = PoseLogWriter(pose_log_path)
        self.track_ids: set[int] = set()
        self.timestamps = array("d")
        self._last: tuple[int, list[int], PoseDetections] | None = None  # the last inferred frame
        self._waiting: list[Moment] = []
        self.inferred = 0

    def __call__(self, item: tuple[int, float, PoseDetections | None]) -> None:
        index, t, people = item
        if people is None:
            self._waiting.append((index, t))
            return
        self.inferred += 1
        ids = self.tracker.update(people.boxes)
        self._fill_waiting((index, ids, people))
        self._write(index, t, ids, people, interpolated=False)
        self.track_ids.update(ids)
        self._last = (index, ids, people)

    def _fill_waiting(self, after: tuple[int, list[int], PoseDetections] | None) -> None:
        """The frames between the last inferred one and `after` (None: the video ended; hold the last)."""
        for index, t in self._waiting:
            if self._last is None:  # nothing inferred yet: nobody known
                ids, people = [], PoseDetections.empty()
            elif after is None:
                ids, people = self._last[1], self._last[2]
            else:
                weight = (index - self._last[0]) / (after[0] - self._last[0])
                ids, people = interpolate_people(self._last[1:], after[1:], weight)
            self._write(index, t, ids, people, interpolated=True)
        self._waiting = []

    def _write(
        self, index: int, t: float, ids: list[int], people: PoseDetections, *, interpolated: bool
    ) -> None:
        self.keypoints.add(index, t, ids, people, interpolated=interpolated)
        self.pose_log.write(index, ids, people)
        self.timestamps.append(t)

    def close(self) -> None:
        self._fill_waiting(None)
        self.keypoints.close()
        self.pose_log.close()


def _infer(
    estimator: PoseEstimator,
    frames: Prefetcher[_Input],
    regions: RegionPlanner,
    writer: BackgroundWorker[tuple[int, float, PoseDetections | None]],
    progress: Progress,
    total_frames: int,
) -> None:
    """Pose on every prepared model input, in order; each result goes to the planner and the writer."""
    batches = (
        ([item.rgb for item in batch], [item.view for item in batch], batch)
        for batch in _batches(iter(frames), estimator.batch_size)
    )
    done = 0
    for people, batch in estimator.stream(batches):
        for item, found in zip(batch, people, strict=True):
            regions.seen(item.view, found)
            for index, t in item.skipped_before:
                writer.submit((index, t, None))
            writer.submit((item.index, item.t, found))
        previous, done = done, done + sum(1 + len(item.skipped_before) for item in batch)
        if done // CANCEL_POLL_FRAMES != previous // CANCEL_POLL_FRAMES:
            progress.check_cancel()
        progress.within(done / max(total_frames, 1))


def run_pose_pass(
    video: Path,
    info: VideoInfo,
    estimator: PoseEstimator,
    *,
    keypoints_path: Path,
    pose_log_path: Path,
    progress: Progress,
    limits: VideoLimits = NO_LIMITS,
    stride: int = 1,
    crops: bool = True,
) -> PosePassResult:
    """With `crops`, pose looks at a crop around the people it found instead of the whole picture, most
    of the time (regions.py; only where the runtime takes one frame at a time, as on CPU)."""
    box = estimator.letterbox(info.width, info.height)
    report = DecodeReport()
    sink = _FrameSink(info, keypoints_path, pose_log_path, stride)
    trailing: list[Moment] = []
    writer = BackgroundWorker(sink, depth=64, name="pose-writer")
    depth = (estimator.runtime.streams + 1) * estimator.batch_size + 2
    # The view of a frame comes from the people found `depth` inferred frames before it: as far as
    # the decoder runs ahead of inference anyway (inference needs that many frames in flight).
    regions = RegionPlanner(box, info.fps / stride, lag=depth, enabled=crops and estimator.batch_size == 1)
    try:
        with Prefetcher(
            _model_inputs(video, info, regions, report, limits, stride, trailing), depth=depth, name="decode"
        ) as frames:
            try:
                _infer(estimator, frames, regions, writer, progress, info.frames)
            finally:
                regions.close()  # before the prefetcher stops: its decoder may be waiting on a result
        for index, t in trailing:
            writer.submit((index, t, None))
    finally:
        writer.finish()
        sink.close()
    return PosePassResult(
        frames=report.frames,
        pose_frames=sink.inferred,
        crop_frames=regions.crops,
        timestamps=sink.timestamps,
        decode_error=report.error,
        people_tracked=len(sink.track_ids),
    )
