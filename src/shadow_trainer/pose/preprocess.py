"""Letterboxing frames to the model input, the way Ultralytics does (grey 114 padding, centred).

Two entry points produce the same layout: ``letterbox_image`` for a BGR array (images, tests)
and ``letterbox_video_frame`` for a decoded PyAV frame, where swscale resizes and converts
colour in one step at the small size, which is much cheaper than converting the full frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import av
import cv2
import numpy as np
from av.video.reformatter import VideoReformatter

PAD_VALUE = 114
STRIDE = 32


@dataclass(frozen=True)
class Letterbox:
    """Geometry that maps an upright source image onto the model input and back."""

    src_width: int
    src_height: int
    scale: float
    new_width: int
    new_height: int
    input_width: int
    input_height: int
    pad_left: int
    pad_top: int

    @classmethod
    def fit(cls, width: int, height: int, imgsz: int = 640) -> Letterbox:
        """Longest side to ``imgsz``; the short side padded only up to a multiple of 32 (less compute)."""
        scale = min(imgsz / width, imgsz / height)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        in_w, in_h = math.ceil(new_w / STRIDE) * STRIDE, math.ceil(new_h / STRIDE) * STRIDE
        return cls(
            src_width=width,
            src_height=height,
            scale=scale,
            new_width=new_w,
            new_height=new_h,
            input_width=in_w,
            input_height=in_h,
            pad_left=(in_w - new_w) // 2,
            pad_top=(in_h - new_h) // 2,
        )

    def pad(self, resized_rgb: np.ndarray) -> np.ndarray:
        """Place a (new_height, new_width, 3) image in the padded (input_height, input_width, 3) canvas."""
        canvas = np.full((self.input_height, self.input_width, 3), PAD_VALUE, dtype=np.uint8)
        canvas[
            self.pad_top : self.pad_top + self.new_height, self.pad_left : self.pad_left + self.new_width
        ] = resized_rgb
        return canvas

    def cropped(self, x0: int, y0: int, x1: int, y1: int) -> Letterbox:
        """The geometry of the part [x0:x1, y0:y1] of this model input, fed to the model on its own
        (the sides multiples of the model's stride): the same scale, so the same mapping back."""
        return replace(
            self,
            input_width=x1 - x0,
            input_height=y1 - y0,
            pad_left=self.pad_left - x0,
            pad_top=self.pad_top - y0,
        )

    def to_source(self, xy: np.ndarray) -> np.ndarray:
        """Map model-input x/y coordinates (last axis of size 2) back to source pixels, in place."""
        xy[..., 0] = (xy[..., 0] - self.pad_left) / self.scale
        xy[..., 1] = (xy[..., 1] - self.pad_top) / self.scale
        np.clip(xy[..., 0], 0, self.src_width, out=xy[..., 0])
        np.clip(xy[..., 1], 0, self.src_height, out=xy[..., 1])
        return xy


def letterbox_image(bgr: np.ndarray, box: Letterbox) -> np.ndarray:
    """A BGR image as the RGB uint8 model input."""
    resized = cv2.resize(bgr, (box.new_width, box.new_height), interpolation=cv2.INTER_LINEAR)
    return box.pad(cv2.cvtColor(resized, cv2.COLOR_BGR2RGB))


def letterbox_video_frame(
    frame: av.VideoFrame, box: Letterbox, rotation: int, reformatter: VideoReformatter | None = None
) -> np.ndarray:
    """A decoded (unrotated) frame as the RGB uint8 model input for its upright letterbox.

    Pass one ``reformatter`` per decode thread: it keeps its swscale context between frames,
    where ``frame.reformat`` would build a new one each time.
    """
    turned = rotation in (90, 270)
    width, height = (box.new_height, box.new_width) if turned else (box.new_width, box.new_height)
    reformatter = reformatter or VideoReformatter()
    small = reformatter.reformat(frame, width=width, height=height, format="rgb24", interpolation="BILINEAR")
    rgb = small.to_ndarray()
    if rotation:
        rgb = np.rot90(rgb, -(rotation // 90))
    return box.pad(rgb)
