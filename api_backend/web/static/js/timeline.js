// The punch timeline: one lane per hand, one coloured mark per punch (type), drawn in SVG.
// Keyboard: the timeline is one tab stop; arrow keys move between punches, Enter or Space seeks.
import { h, s } from "./dom.js";
import { capitalise, formatClock } from "./format.js";

export const PUNCH_TYPES = ["jab", "cross", "hook", "uppercut"];
export const TYPE_LETTER = { jab: "J", cross: "C", hook: "H", uppercut: "U" };
const HANDS = ["left", "right"];
const LANE_H = 40;
const AXIS_H = 26;
const PAD_L = 58;
const PAD_R = 14;
const PAD_T = 8;
const MIN_MARK_W = 14;

function niceStep(duration, width) {
  const target = duration / Math.max(2, Math.floor(width / 70));
  const steps = [0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600];
  return steps.find((step) => step >= target) || 600;
}

export function punchLabel(punch) {
  const side = punch.side ? `, ${punch.side}` : "";
  const confidence = Number.isFinite(punch.confidence) ? `, confidence ${Math.round(punch.confidence * 100)} %` : "";
  return `${capitalise(punch.type)}, ${punch.hand} hand${side}, at ${formatClock(punch.t)}${confidence}`;
}

/**
 * Draw the timeline into `root`. punches: punches.json's list; duration: seconds; onSeek(seconds).
 * Returns {setTime(seconds)} to move the playhead and highlight the punch being thrown.
 */
export function createTimeline(root, { punches, duration, onSeek }) {
  const sorted = [...punches].sort((a, b) => a.t_start - b.t_start || a.t - b.t);
  const end = Math.max(duration || 0, ...sorted.map((p) => p.t_end || p.t || 0), 0.1);
  let focusIndex = 0;
  let time = 0;
  let marks = [];
  let playhead = null;

  const svgHost = h("div", { class: "timeline-plot" });
  const legend = h(
    "ul",
    { class: "legend", "aria-label": "Punch types" },
    ...PUNCH_TYPES.map((type) =>
      h("li", {}, h("span", { class: `swatch type-${type}`, "aria-hidden": "true" }, TYPE_LETTER[type]), capitalise(type)),
    ),
  );
  const hint = h(
    "p",
    { class: "hint", id: "timeline-hint" },
    sorted.length
      ? "Click a punch to jump the video to it. With the keyboard: Tab to the timeline, arrow keys to move, Enter to jump."
      : "No punches were detected in this video.",
  );
  root.replaceChildren(legend, svgHost, hint);

  function seek(index) {
    const punch = sorted[index];
    if (!punch) return;
    focusIndex = index;
    onSeek(Math.max(0, punch.t_start ?? punch.t));
  }

  function focusMark(index) {
    if (!marks.length) return;
    focusIndex = Math.min(Math.max(index, 0), marks.length - 1);
    marks.forEach((mark, i) => mark.setAttribute("tabindex", i === focusIndex ? "0" : "-1"));
    marks[focusIndex].focus();
  }

  function onKey(event) {
    const keys = {
      ArrowRight: focusIndex + 1,
      ArrowDown: focusIndex + 1,
      ArrowLeft: focusIndex - 1,
      ArrowUp: focusIndex - 1,
      Home: 0,
      End: marks.length - 1,
    };
    if (event.key in keys) {
      event.preventDefault();
      focusMark(keys[event.key]);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      seek(focusIndex);
    }
  }

  function draw() {
    const width = Math.max(260, Math.round(svgHost.clientWidth || 600));
    const height = PAD_T + LANE_H * HANDS.length + AXIS_H;
    const plotW = width - PAD_L - PAD_R;
    const x = (t) => PAD_L + (Math.min(Math.max(t, 0), end) / end) * plotW;
    const hadFocus = marks.some((mark) => mark === document.activeElement);

    const svg = s("svg", {
      class: "timeline-svg",
      width,
      height,
      viewBox: `0 0 ${width} ${height}`,
      role: "group",
      "aria-label": `Punch timeline, ${sorted.length} punches over ${formatClock(end)}`,
      "aria-describedby": "timeline-hint",
    });
    HANDS.forEach((hand, lane) => {
      const y = PAD_T + lane * LANE_H;
      svg.append(
        s("rect", { class: "lane", x: PAD_L, y: y + 4, width: plotW, height: LANE_H - 8, rx: 6 }),
        s("text", { class: "lane-label", x: 4, y: y + LANE_H / 2 + 4 }, `${capitalise(hand)}`),
      );
    });
    const axisY = PAD_T + LANE_H * HANDS.length;
    const step = niceStep(end, plotW);
    svg.append(s("line", { class: "axis", x1: PAD_L, x2: PAD_L + plotW, y1: axisY, y2: axisY }));
    for (let t = 0; t <= end + 1e-9; t += step) {
      const tx = x(t);
      svg.append(
        s("line", { class: "tick", x1: tx, x2: tx, y1: axisY, y2: axisY + 5 }),
        s(
          "text",
          { class: "tick-label", x: tx, y: axisY + 18, "text-anchor": tx > width - 24 ? "end" : "middle" },
          formatClock(t, step < 1 ? 1 : 0),
        ),
      );
    }

    marks = sorted.map((punch, index) => {
      const lane = Math.max(0, HANDS.indexOf(punch.hand));
      const y = PAD_T + lane * LANE_H + 7;
      const start = punch.t_start ?? punch.t;
      const stop = punch.t_end ?? punch.t;
      let x1 = x(start);
      let x2 = x(stop);
      if (x2 - x1 < MIN_MARK_W) {
        const centre = x(punch.t ?? start);
        x1 = Math.max(PAD_L, centre - MIN_MARK_W / 2);
        x2 = x1 + MIN_MARK_W;
      }
      const type = PUNCH_TYPES.includes(punch.type) ? punch.type : "jab";
      const mark = s(
        "g",
        {
          class: `punch type-${type}`,
          role: "button",
          tabindex: index === focusIndex ? "0" : "-1",
          "aria-label": punchLabel(punch),
          dataset: { index: String(index), t: String(punch.t), tStart: String(start), type, hand: punch.hand },
        },
        s("title", {}, punchLabel(punch)),
        s("rect", { class: "mark", x: x1, y, width: x2 - x1, height: LANE_H - 14, rx: 4 }),
      );
      if (x2 - x1 >= 24) {
        // The moment of impact, where the mark is wide enough to show it beside the letter.
        const impact = x(punch.t ?? start);
        mark.append(s("line", { class: "impact", x1: impact, x2: impact, y1: y + LANE_H - 20, y2: y + LANE_H - 14 }));
      }
      if (x2 - x1 >= 12) {
        mark.append(
          s("text", { class: "mark-letter", x: (x1 + x2) / 2, y: y + (LANE_H - 14) / 2 + 4, "text-anchor": "middle" }, TYPE_LETTER[type]),
        );
      }
      mark.addEventListener("click", () => {
        focusMark(index);
        seek(index);
      });
      mark.addEventListener("keydown", onKey);
      svg.append(mark);
      return mark;
    });
    playhead = s("line", { class: "playhead", x1: x(time), x2: x(time), y1: PAD_T, y2: axisY, "aria-hidden": "true" });
    playhead.dataset.scale = JSON.stringify({ left: PAD_L, width: plotW, end });
    svg.append(playhead);
    svgHost.replaceChildren(svg);
    highlight();
    if (hadFocus) focusMark(focusIndex);
  }

  function highlight() {
    marks.forEach((mark, index) => {
      const punch = sorted[index];
      mark.classList.toggle("current", time >= (punch.t_start ?? punch.t) && time <= (punch.t_end ?? punch.t));
    });
  }

  function setTime(seconds) {
    time = seconds;
    if (playhead) {
      const { left, width, end: scaleEnd } = JSON.parse(playhead.dataset.scale);
      const px = left + (Math.min(Math.max(seconds, 0), scaleEnd) / scaleEnd) * width;
      playhead.setAttribute("x1", String(px));
      playhead.setAttribute("x2", String(px));
    }
    highlight();
  }

  draw();
  let lastWidth = svgHost.clientWidth;
  if ("ResizeObserver" in window) {
    new ResizeObserver(() => {
      if (Math.abs(svgHost.clientWidth - lastWidth) >= 2) {
        lastWidth = svgHost.clientWidth;
        draw();
      }
    }).observe(svgHost);
  }
  return { setTime, punches: sorted };
}
