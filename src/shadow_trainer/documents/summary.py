"""Composing ``summary.json``: the punch summary plus what was analysed, and how."""

from __future__ import annotations

from shadow_trainer.documents.summary_document import PunchSummary, SummaryDocument
from shadow_trainer.media.video import VideoInfo

# 2: every fighter, and the coaching analytics (combos, rounds, timeline, speed, guard, stance switches).
SCHEMA_VERSION = 2


def build_summary(
    punch_summary: PunchSummary,
    *,
    video: VideoInfo,
    duration: float,
    model: str,
    runtime: str,
    device: str,
    frames_analyzed: int,
    pose_frames: int,
    pose_crop_frames: int,
    processing_fps: float,
    people_tracked: int,
    decode_error: str | None,
) -> SummaryDocument:
    return {
        "schema_version": SCHEMA_VERSION,
        **punch_summary,
        "duration": round(duration, 3),
        "video": {**video.as_dict(), "rotation": video.rotation, "codec": video.codec},
        "model": model,
        "runtime": runtime,
        "device": device,
        "frames_analyzed": frames_analyzed,
        # Frames pose ran on; the others have keypoints interpolated between them (keypoints.json).
        "pose_frames": pose_frames,
        # Of those, the ones where pose looked only around the people it had found.
        "pose_crop_frames": pose_crop_frames,
        "processing_fps": round(processing_fps, 2),
        "people_tracked": people_tracked,
        # A stream that broke mid-way is analysed up to the break; this says where it stopped.
        "decode_error": decode_error,
    }
