"""A small JPEG still of a video at a given time, for the job list."""

from __future__ import annotations

from pathlib import Path

import av
import cv2

THUMBNAIL_WIDTH = 320
JPEG_QUALITY = 80


def write_thumbnail(video: Path, at_s: float, out: Path, width: int = THUMBNAIL_WIDTH) -> Path | None:
    """The first frame at or after `at_s` (the last frame when the video ends before), scaled to
    `width`; None when the video has no decodable frame."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        if at_s > 0 and stream.time_base is not None:
            container.seek(int(at_s / stream.time_base), stream=stream, backward=True)
        chosen = None
        for frame in container.decode(stream):
            chosen = frame
            if frame.time is None or frame.time >= at_s:
                break
        if chosen is None:
            return None
        height = max(2, round(chosen.height * width / chosen.width / 2) * 2)
        bgr = chosen.reformat(width=width, height=height, format="bgr24").to_ndarray()
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        return None
    out.write_bytes(jpeg.tobytes())
    return out
