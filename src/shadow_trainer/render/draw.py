"""Drawing skeletons and punch labels straight onto yuv420p frames.

Drawing on the Y, U and V planes (chroma at half resolution) avoids converting every full-size
frame to BGR and back, which would cost more than the drawing itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from shadow_trainer.documents.pose_log import BOX, KEYPOINTS, TRACK
from shadow_trainer.documents.punches_document import Punch
from shadow_trainer.pose.keypoint_names import SKELETON

Rgb = tuple[int, int, int]
MIN_KEYPOINT_CONF = 0.5
LABEL_HOLD_S = 0.4  # keep a punch label up a little after the punch so it can be read
# The top-left list of punches whose fighter is not in the frame: bigger text, so more room a line
# (at a line each, the boxes ran over the running count and over each other).
LISTED_SCALE = 1.3
LISTED_LINE = 1.5
MAIN_COLOUR: Rgb = (255, 140, 0)
OTHER_COLOUR: Rgb = (90, 170, 255)
PUNCH_COLOURS: dict[str, Rgb] = {
    "jab": (60, 220, 60),
    "cross": (240, 60, 60),
    "hook": (250, 210, 40),
    "uppercut": (200, 80, 240),
}


def rgb_to_yuv(rgb: Rgb) -> tuple[int, int, int]:
    """BT.601 limited range, what x264 assumes for yuv420p by default."""
    r, g, b = (c / 255 for c in rgb)
    y = 16 + 65.481 * r + 128.553 * g + 24.966 * b
    u = 128 - 37.797 * r - 74.203 * g + 112.0 * b
    v = 128 + 112.0 * r - 93.786 * g - 18.214 * b
    return round(y), round(u), round(v)


def label_box(text: str, origin: tuple[int, int], scale: float) -> tuple[int, int, int, int]:
    """The dark box (x1, y1, x2, y2) behind a label whose text starts at ``origin`` (its baseline)."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, max(1, round(scale * 2)))
    x, y = origin
    pad = max(2, round(4 * scale))
    return x - pad, y - h - pad, x + w + pad, y + base + pad


@dataclass(frozen=True)
class _Canvas:
    y: np.ndarray
    u: np.ndarray
    v: np.ndarray

    def line(self, p: tuple[int, int], q: tuple[int, int], colour: Rgb, thickness: int) -> None:
        cy, cu, cv = rgb_to_yuv(colour)
        cv2.line(self.y, p, q, cy, thickness, cv2.LINE_AA)
        half_p, half_q, half_t = (p[0] // 2, p[1] // 2), (q[0] // 2, q[1] // 2), max(1, thickness // 2)
        cv2.line(self.u, half_p, half_q, cu, half_t)
        cv2.line(self.v, half_p, half_q, cv, half_t)

    def dot(self, p: tuple[int, int], radius: int, colour: Rgb) -> None:
        cy, cu, cv = rgb_to_yuv(colour)
        cv2.circle(self.y, p, radius, cy, -1, cv2.LINE_AA)
        cv2.circle(self.u, (p[0] // 2, p[1] // 2), max(1, radius // 2), cu, -1)
        cv2.circle(self.v, (p[0] // 2, p[1] // 2), max(1, radius // 2), cv, -1)

    def label(self, text: str, origin: tuple[int, int], scale: float, colour: Rgb) -> None:
        """Text in ``colour`` on a dark box, readable on any background."""
        x, y = origin
        x1, y1, x2, y2 = label_box(text, origin, scale)
        cv2.rectangle(self.y, (x1, y1), (x2, y2), 16, -1)
        cv2.rectangle(self.u, (x1 // 2, y1 // 2), (x2 // 2, y2 // 2), 128, -1)
        cv2.rectangle(self.v, (x1 // 2, y1 // 2), (x2 // 2, y2 // 2), 128, -1)
        cy, cu, cv = rgb_to_yuv(colour)
        cv2.putText(
            self.y, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, scale, cy, max(1, round(scale * 2)), cv2.LINE_AA
        )
        # Colour only the glyph pixels on the chroma planes: where Y now differs from the dark box.
        glyph = self.y[max(y1, 0) : max(y2, 0), max(x1, 0) : max(x2, 0)] > 60
        half = glyph[::2, ::2]
        hy, hx = half.shape
        self.u[max(y1, 0) // 2 : max(y1, 0) // 2 + hy, max(x1, 0) // 2 : max(x1, 0) // 2 + hx][half] = cu
        self.v[max(y1, 0) // 2 : max(y1, 0) // 2 + hy, max(x1, 0) // 2 : max(x1, 0) // 2 + hx][half] = cv


def _skeleton(canvas: _Canvas, keypoints: np.ndarray, colour: Rgb, thickness: int) -> None:
    visible = keypoints[:, 2] >= MIN_KEYPOINT_CONF
    points = [(int(x), int(y)) for x, y in keypoints[:, :2]]
    for a, b in SKELETON:
        if visible[a] and visible[b]:
            canvas.line(points[a], points[b], colour, thickness)
    for i in np.flatnonzero(visible):
        canvas.dot(points[i], thickness + 1, colour)


def _colour(punch: Punch) -> Rgb:
    return PUNCH_COLOURS.get(str(punch.get("type")), (255, 255, 255))


def _punch_text(punch: Punch) -> str:
    return (
        f"{str(punch.get('type', 'punch')).upper()}  {punch.get('hand', '')} {punch.get('side', '')}".strip()
    )


def active_punches(punches: Sequence[Punch], t: float) -> list[Punch]:
    """Punches to label at time ``t``: from their start until a moment after impact."""
    return [
        p
        for p in punches
        if float(p.get("t_start", p["t"]))
        <= t
        <= max(float(p.get("t_end", p["t"])), float(p["t"]) + LABEL_HOLD_S)
    ]


def listed_label_origin(n: int, line: int) -> tuple[int, int]:
    """Where the n-th (1, 2, …) label of the top-left list goes (punches of fighters not detected in
    the frame): below the running count, a line and a half apart, as their text is bigger."""
    return 12, line + round(LISTED_LINE * line) * n


def fighter_label_origin(
    box: np.ndarray, k: int, line: int, width: int, height: int, scale: float, top: int | None = None
) -> tuple[int, int]:
    """Where the k-th (1, 2, …) active punch label of a fighter goes: stacked upwards above the box
    while there is room below ``top`` (the running count's line, `2 * line`, or the bottom of the
    top-left list), then downwards inside the box from its top. One label a line, never on the count
    or the list."""
    top = 2 * line if top is None else top
    x = int(np.clip(box[0], 4, max(width - 200 * scale, 4)))
    first_above = box[1] - line * 0.8
    slots_above = int((first_above - top) // line) + 1 if first_above >= top else 0
    if k <= slots_above:
        return x, int(first_above - line * (k - 1))
    inside = k - slots_above
    return x, int(min(max(box[1], top - line) + line * (inside + 1), height - 8))


@dataclass(frozen=True)
class FrameRenderer:
    """Draws one frame's people (rows of the pose log) and its punch labels."""

    width: int
    height: int
    main_track: int | None
    punches: Sequence[Punch]

    @property
    def _thickness(self) -> int:
        return max(2, round(min(self.width, self.height) / 240))

    @property
    def _text_scale(self) -> float:
        return max(0.5, min(self.width, self.height) / 720)

    @property
    def _line(self) -> int:
        return round(40 * self._text_scale)

    def draw(
        self,
        planes: tuple[np.ndarray, np.ndarray, np.ndarray],
        rows: np.ndarray,
        t: float,
        punches_so_far: int,
    ) -> None:
        """Draw on the Y, U, V planes of one upright yuv420p frame, in place."""
        canvas = _Canvas(*planes)
        boxes: dict[int, np.ndarray] = {}
        for row in rows:
            track = int(row[TRACK])
            main = self.main_track is not None and track == self.main_track
            keypoints = row[KEYPOINTS].reshape(-1, 3)
            _skeleton(
                canvas,
                keypoints,
                MAIN_COLOUR if main else OTHER_COLOUR,
                self._thickness + (1 if main else -1),
            )
            boxes[track] = row[BOX]
            x1, y1 = int(row[BOX][0]), int(row[BOX][1])
            # Below the running count's line when the box reaches the top of the frame.
            canvas.label(f"#{track}", (x1 + 4, max(y1 - 6, 2 * self._line - 4)), self._text_scale * 0.6,
                         OTHER_COLOUR)  # fmt: skip
        self._punch_labels(canvas, t, punches_so_far, boxes)

    def _punch_labels(
        self, canvas: _Canvas, t: float, punches_so_far: int, boxes: dict[int, np.ndarray]
    ) -> None:
        """The running count top left; each active punch at the fighter who threw it (in the
        top-left list when that fighter is not detected in this frame)."""
        scale, line = self._text_scale, self._line
        if self.punches:
            canvas.label(f"punches: {punches_so_far}", (12, line), scale, (255, 255, 255))
        active = active_punches(self.punches, t)
        seen = [p for p in active if p.get("track_id") is not None and int(p["track_id"]) in boxes]
        unseen = [p for p in active if p not in seen]
        for n, punch in enumerate(unseen, start=1):
            canvas.label(
                _punch_text(punch), listed_label_origin(n, line), scale * LISTED_SCALE, _colour(punch)
            )
        # Fighters' labels start at the list's next row: it sits where a box near the top stacks them.
        top = listed_label_origin(len(unseen) + 1, line)[1] if unseen else None
        stacked: dict[int, int] = {}
        for punch in seen:
            track = int(punch["track_id"])
            k = stacked[track] = stacked.get(track, 0) + 1
            origin = fighter_label_origin(boxes[track], k, line, self.width, self.height, scale, top)
            canvas.label(_punch_text(punch), origin, scale * 1.1, _colour(punch))
