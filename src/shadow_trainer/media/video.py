"""Reading videos: fast probing and streaming decode with PyAV.

Frames are yielded one at a time (never all held in memory). Rotation metadata (a display
matrix, as phones write) is applied so that every consumer sees the picture upright, and
odd dimensions are cropped by one pixel to the even size H.264 yuv420p requires.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import av.video.stream
import numpy as np

from shadow_trainer.errors import InvalidVideoError, VideoLimitError

log = logging.getLogger(__name__)

_DEFAULT_FPS = 30.0
DECODE_THREAD_TYPE = "AUTO"
# Frames a second that a limit on duration is converted with when the stream's own timing cannot be
# trusted (a raw .h264 stream has no container duration and may carry no timestamps).
MAX_FRAME_RATE = 240.0


@dataclass(frozen=True)
class VideoLimits:
    """What a service accepts; enforced from the declared sizes before decoding and again per frame,
    so neither a container that lies about its duration nor frames that grow mid-stream get past."""

    max_pixels: int | None = None
    max_duration_s: float | None = None

    @property
    def decoder_options(self) -> dict[str, str]:
        """FFmpeg refuses larger pictures itself (before allocating them), also while probing."""
        return {} if self.max_pixels is None else {"max_pixels": str(self.max_pixels)}

    def check_size(self, width: int, height: int, name: str) -> None:
        if self.max_pixels is not None and width * height > self.max_pixels:
            raise VideoLimitError(
                f"{name!r}: {width}×{height} is above the limit of {self.max_pixels} pixels a frame",
                code="resolution_too_high",
            )

    def check_position(self, index: int, t: float, name: str) -> None:
        """``index``: frames decoded before this one; ``t``: this frame's time in seconds."""
        if self.max_duration_s is None:
            return
        # By timestamp, and by count: a stream may carry no timestamps, or ones that barely move.
        if t > self.max_duration_s or index > self.max_duration_s * MAX_FRAME_RATE:
            raise VideoLimitError(
                f"{name!r} lasts longer than the limit of {self.max_duration_s:.0f} s",
                code="video_too_long",
            )


NO_LIMITS = VideoLimits()


@dataclass(frozen=True)
class VideoInfo:
    """What the service shows about an uploaded video; width/height are the upright size."""

    fps: float
    frames: int
    width: int
    height: int
    duration: float
    rotation: int
    codec: str

    def as_dict(self) -> dict[str, float | int]:
        return {
            "fps": self.fps,
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "duration": self.duration,
        }


@dataclass(frozen=True)
class DecodedFrame:
    """One decoded (not yet rotated) frame with its position in the video."""

    index: int
    t: float
    frame: av.VideoFrame


def _open(path: Path, limits: VideoLimits) -> av.container.InputContainer:
    if not path.is_file():
        raise InvalidVideoError(f"Video file {path.name!r} does not exist.")
    if path.stat().st_size == 0:
        raise InvalidVideoError(f"Video file {path.name!r} is empty (0 bytes).")
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore", options=limits.decoder_options)
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidVideoError(
            f"{path.name!r} is not a readable video container (is it truncated or not a video?): {exc}"
        ) from exc


def _video_stream(container: av.container.InputContainer, name: str) -> av.video.stream.VideoStream:
    if not container.streams.video:
        kinds: list[str] = sorted({str(s.type) for s in container.streams}) or ["none"]
        raise InvalidVideoError(f"{name!r} has no video stream (streams found: {', '.join(kinds)}).")
    return container.streams.video[0]


def _fps(stream: av.video.stream.VideoStream) -> float:
    average, guessed = _rate(stream.average_rate), _rate(stream.guessed_rate)
    # A clock that stands still (every timestamp 0) shrinks the duration, so the average rate (frames
    # over duration) comes out far above the stream's own rate; that one is then the one to believe.
    if average and guessed and average > 1.5 * guessed:
        return guessed
    return average or guessed or _rate(stream.base_rate) or _DEFAULT_FPS


def _rate(rate: Fraction | None) -> float | None:
    return float(rate) if rate and 0 < float(rate) < 1000 else None


def _duration(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / av.time_base
    return 0.0


def _normalise_rotation(degrees: float) -> int:
    """Clockwise rotation needed to show the frame upright, snapped to a multiple of 90."""
    return round(-degrees / 90.0) % 4 * 90


def _declared_size(stream: av.video.stream.VideoStream, name: str) -> tuple[int, int]:
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise InvalidVideoError(f"{name!r}: the video stream does not declare its frame size.")
    return width, height


def _first_frame(
    container: av.container.InputContainer,
    stream: av.video.stream.VideoStream,
    name: str,
    limits: VideoLimits,
) -> av.VideoFrame:
    # One decoding thread: a probe holds one picture's buffers, not one per thread.
    stream.codec_context.thread_count = 1
    stream.codec_context.options = limits.decoder_options
    try:
        for frame in container.decode(stream):
            limits.check_size(frame.width, frame.height, name)
            return frame
    except av.FFmpegError as exc:
        limits.check_size(stream.codec_context.width, stream.codec_context.height, name)
        raise InvalidVideoError(f"{name!r}: the video stream cannot be decoded: {exc}") from exc
    raise InvalidVideoError(f"{name!r}: the video stream holds no decodable frame (truncated at the start?).")


# FFmpeg opens a JPEG, PNG... as a one-frame "video" through its image demuxers; judged by content,
# those are pictures, not videos.
def _refuse_still_images(container: av.container.InputContainer, name: str) -> None:
    formats = container.format.name.split(",")
    if any(f == "image2" or f.endswith("_pipe") for f in formats):
        raise InvalidVideoError(f"{name!r} is a still image ({container.format.long_name}), not a video.")


def probe_video(path: Path, limits: VideoLimits = NO_LIMITS) -> VideoInfo:
    """Container metadata plus one decoded frame (to prove the stream decodes); no full decode.

    The declared frame size is checked against ``limits`` before anything is decoded (a 16000×16000
    picture would take gigabytes), and the decoded frame's size again.
    """
    path = Path(path)
    with _open(path, limits) as container:
        _refuse_still_images(container, path.name)
        stream = _video_stream(container, path.name)
        limits.check_size(*_declared_size(stream, path.name), path.name)
        fps = _fps(stream)
        duration = _duration(container, stream)
        first = _first_frame(container, stream, path.name, limits)
        rotation = _normalise_rotation(first.rotation)
        frames = int(stream.frames or 0)
        if frames <= 0:
            # Some containers (webm, streamed mkv) carry no frame count: estimate it.
            frames = max(1, round(duration * fps))
        # No shorter than its frames at the rate: a clock that stands still gives a duration near 0.
        duration = max(duration, frames / fps)
        width, height = first.width, first.height
        if rotation in (90, 270):
            width, height = height, width
        return VideoInfo(
            fps=fps,
            frames=frames,
            width=width,
            height=height,
            duration=round(duration, 6),
            rotation=rotation,
            codec=stream.codec_context.name,
        )


def even_size(width: int, height: int) -> tuple[int, int]:
    """H.264 yuv420p needs even dimensions; we crop the last odd row/column."""
    return width - width % 2, height - height % 2


def upright_yuv(frame: av.VideoFrame, rotation: int) -> np.ndarray:
    """The frame as an upright packed yuv420p array of shape (H*3/2, W), H and W even.

    Odd sizes are rescaled by one pixel (641 -> 640): at most a 0.2 % stretch, invisible.
    """
    width, height = even_size(frame.width, frame.height)
    if frame.format.name != "yuv420p" or (width, height) != (frame.width, frame.height):
        frame = frame.reformat(width=width, height=height, format="yuv420p")
    packed = frame.to_ndarray()
    if rotation == 0:
        return packed
    return rotate_yuv420(packed, rotation)


def writable_upright_frame(frame: av.VideoFrame, rotation: int) -> av.VideoFrame:
    """An upright, even-sized yuv420p frame that may be drawn on in place (see ``frame_planes``).

    The common case (upright yuv420p, even size) costs one copy at most: decoded frames can
    share buffers with the decoder's reference frames, so ``make_writable`` copies them first.
    """
    if rotation == 0 and frame.format.name == "yuv420p" and not (frame.width % 2 or frame.height % 2):
        frame.make_writable()
        return frame
    return av.VideoFrame.from_ndarray(upright_yuv(frame, rotation), format="yuv420p")


def frame_planes(frame: av.VideoFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Writable Y, U, V views into a yuv420p frame's own buffers (rows padded to ``line_size``)."""
    views = []
    for plane in frame.planes[:3]:
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
        views.append(rows[:, : plane.width])
    return views[0], views[1], views[2]


def yuv_planes(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Writable Y, U, V views into a packed yuv420p array (U and V are flat chunks, not rows)."""
    height, width = packed.shape[0] * 2 // 3, packed.shape[1]
    flat = packed.reshape(-1)
    y_size, c_size = height * width, (height // 2) * (width // 2)
    y = flat[:y_size].reshape(height, width)
    u = flat[y_size : y_size + c_size].reshape(height // 2, width // 2)
    v = flat[y_size + c_size : y_size + 2 * c_size].reshape(height // 2, width // 2)
    return y, u, v


def rotate_yuv420(packed: np.ndarray, rotation: int) -> np.ndarray:
    """Rotate a packed yuv420p array clockwise by ``rotation`` degrees, plane by plane."""
    k = -(rotation // 90)  # np.rot90 turns counter-clockwise for positive k
    rotated = [np.rot90(plane, k) for plane in yuv_planes(packed)]
    height, width = rotated[0].shape
    return np.concatenate([plane.reshape(-1) for plane in rotated]).reshape(height * 3 // 2, width)


@dataclass
class DecodeReport:
    """Filled in while decoding: how many frames came out and whether the stream broke."""

    frames: int = 0
    error: str | None = None


def _frame_time(
    pts: int | None, start: int, time_base: Fraction, before: float, index: int, fps: float
) -> float:
    """A frame's time in seconds: its timestamp, or, where there is none or the clock stands still or
    runs back (some re-encoders write every frame at 0), one declared frame after the one before."""
    t = float((pts - start) * time_base) if pts is not None else index / fps
    if t <= before:
        t = before + 1 / fps
    return round(max(t, 0.0), 6)


def iter_frames(
    path: Path, info: VideoInfo, report: DecodeReport | None = None, limits: VideoLimits = NO_LIMITS
) -> Iterator[DecodedFrame]:
    """Decode frames in order (rotation is applied by the consumer, on the size it needs).

    A stream that breaks mid-way stops the iteration cleanly: the frames decoded so far are
    kept and ``report.error`` says what happened (a phone upload cut short still gives a result).
    A stream that yields nothing at all raises ``InvalidVideoError``; a frame over ``limits`` (too
    large, or past the longest duration) raises ``VideoLimitError``.
    """
    report = report if report is not None else DecodeReport()
    with _open(path, limits) as container:
        stream = _video_stream(container, path.name)
        stream.thread_type = DECODE_THREAD_TYPE
        stream.codec_context.options = limits.decoder_options
        time_base = stream.time_base or Fraction(1, 1)
        start = stream.start_time or 0
        t = -math.inf
        try:
            for frame in container.decode(stream):
                t = _frame_time(frame.pts, start, time_base, t, report.frames, info.fps)
                limits.check_size(frame.width, frame.height, path.name)
                limits.check_position(report.frames, t, path.name)
                yield DecodedFrame(index=report.frames, t=t, frame=frame)
                report.frames += 1
        except av.FFmpegError as exc:
            # The decoder refused a picture over the limit (the stream's size changed mid-way).
            limits.check_size(stream.codec_context.width, stream.codec_context.height, path.name)
            if report.frames == 0:
                raise InvalidVideoError(f"{path.name!r}: the video stream cannot be decoded: {exc}") from exc
            report.error = f"decoding stopped after frame {report.frames}: {exc}"
            log.warning("%s: %s", path.name, report.error)
    if report.frames == 0:
        raise InvalidVideoError(f"{path.name!r}: the video stream holds no decodable frame.")
