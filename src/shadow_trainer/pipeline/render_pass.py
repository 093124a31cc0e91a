"""Pass 2: decode ‖ draw ‖ H.264 encode of ``annotated.mp4``.

Punch labels are only known once the whole keypoint sequence is classified, so the video is
rendered after classification from a second decode of the input (cheap next to inference)
with the keypoints read back from the on-disk pose log: no frame is held between passes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import av

from shadow_trainer.documents.pose_log import PoseLog
from shadow_trainer.documents.punches_document import Punch
from shadow_trainer.media.encode import H264Writer
from shadow_trainer.media.video import (
    DecodeReport,
    VideoInfo,
    even_size,
    frame_planes,
    iter_frames,
    writable_upright_frame,
)
from shadow_trainer.pipeline.prefetch import Prefetcher
from shadow_trainer.pipeline.progress import Progress
from shadow_trainer.render.draw import FrameRenderer

CANCEL_POLL_FRAMES = 8


@dataclass(frozen=True)
class _Picture:
    index: int
    t: float
    frame: av.VideoFrame


def _pictures(video: Path, info: VideoInfo, limit: int) -> Iterator[_Picture]:
    for decoded in iter_frames(video, info, DecodeReport()):
        if decoded.index >= limit:  # never render past what pass 1 analysed
            return
        yield _Picture(decoded.index, decoded.t, writable_upright_frame(decoded.frame, info.rotation))


def _drawn(
    pictures: Iterator[_Picture], renderer: FrameRenderer, log: PoseLog, punch_times: Sequence[float]
) -> Iterator[_Picture]:
    counted = 0
    for picture in pictures:
        while counted < len(punch_times) and punch_times[counted] <= picture.t:
            counted += 1
        renderer.draw(frame_planes(picture.frame), log.frame_rows(picture.index), picture.t, counted)
        yield picture


def render_annotated(
    video: Path,
    info: VideoInfo,
    *,
    frames: int,
    pose_log: PoseLog,
    main_track: int | None,
    punches: Sequence[Punch],
    out_path: Path,
    progress: Progress,
) -> int:
    """Write ``out_path``; returns the number of frames encoded."""
    width, height = even_size(info.width, info.height)
    renderer = FrameRenderer(width, height, main_track, punches)
    punch_times = sorted(float(p["t"]) for p in punches)
    writer = H264Writer(out_path, width=width, height=height, fps=info.fps)
    try:
        with (
            Prefetcher(_pictures(video, info, frames), depth=4, name="render-decode") as pictures,
            Prefetcher(
                _drawn(iter(pictures), renderer, pose_log, punch_times), depth=4, name="draw"
            ) as drawn,
        ):
            for picture in drawn:
                writer.write(picture.frame, picture.t)
                if writer.frames % CANCEL_POLL_FRAMES == 0:
                    progress.check_cancel()
                progress.within(writer.frames / max(frames, 1))
    except BaseException:
        writer.abort()
        raise
    writer.close()
    return writer.frames
