// Charts of a boxer's sessions over dates: one small line chart per figure, each point a session that
// links to its result. The figures are the API's (GET /api/v1/sessions); only positions are computed here.
import { resultPage } from "./api.js";
import { h, s } from "./dom.js";
import { formatNumber } from "./format.js";

const WIDTH = 320;
const HEIGHT = 140;
const PAD = { left: 40, right: 12, top: 12, bottom: 24 };

export const FIGURES = [
  { key: "punches_per_minute", label: "Punches per minute", digits: 1 },
  { key: "punches", label: "Punches", digits: 0 },
  { key: "mean_speed", label: "Mean peak speed (shoulder widths/s)", digits: 1 },
  { key: "combos_per_minute", label: "Combinations per minute", digits: 1 },
];

const shortDate = (iso) => new Date(iso).toLocaleDateString(undefined, { month: "short", day: "numeric" });

/** x positions by time; sessions on one instant (or a single session) are spread evenly instead. */
function xPositions(sessions) {
  const times = sessions.map((point) => new Date(point.created_at).getTime());
  const first = Math.min(...times);
  const span = Math.max(...times) - first;
  const inner = WIDTH - PAD.left - PAD.right;
  if (span <= 0) return times.map((_, i) => PAD.left + (sessions.length > 1 ? (i / (sessions.length - 1)) * inner : inner / 2));
  return times.map((time) => PAD.left + ((time - first) / span) * inner);
}

function chart(figure, sessions, xs) {
  const values = sessions.map((point) => point.figures[figure.key]);
  const known = values.filter((value) => value !== null && value !== undefined);
  const most = Math.max(1e-9, ...known);
  const y = (value) => PAD.top + (1 - value / most) * (HEIGHT - PAD.top - PAD.bottom);
  const path = values
    .map((value, i) => (value === null || value === undefined ? null : `${xs[i].toFixed(1)},${y(value).toFixed(1)}`))
    .filter(Boolean);
  const dots = values.map((value, i) => {
    if (value === null || value === undefined) return null;
    const point = sessions[i];
    const text = `${point.name}, ${shortDate(point.created_at)}: ${formatNumber(value, figure.digits)}`;
    return s("a", { href: resultPage(point.id), class: "trend-point", dataset: { jobId: point.id, value: String(value) } },
      s("circle", { cx: xs[i], cy: y(value), r: 5 }), s("title", {}, text));
  });
  const firstLabel = shortDate(sessions[0].created_at);
  const lastLabel = shortDate(sessions[sessions.length - 1].created_at);
  return h(
    "figure",
    { class: "chart trend-chart", id: `trend-${figure.key}`, dataset: { figure: figure.key } },
    h("figcaption", {}, figure.label),
    s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: "img", class: "trend-svg",
      "aria-label": `${figure.label}: ${known.length} sessions, at most ${formatNumber(most, figure.digits)}` },
      s("text", { x: 4, y: PAD.top + 4, class: "axis-label" }, formatNumber(most, figure.digits)),
      s("text", { x: 4, y: HEIGHT - PAD.bottom, class: "axis-label" }, "0"),
      s("line", { x1: PAD.left - 4, x2: WIDTH - PAD.right, y1: HEIGHT - PAD.bottom, y2: HEIGHT - PAD.bottom, class: "axis" }),
      s("text", { x: PAD.left, y: HEIGHT - 6, class: "axis-label" }, firstLabel),
      s("text", { x: WIDTH - PAD.right, y: HEIGHT - 6, "text-anchor": "end", class: "axis-label" }, lastLabel),
      path.length > 1 ? s("polyline", { points: path.join(" "), class: "trend-line" }) : null,
      ...dots),
  );
}

/** The charts, one per figure, for sessions oldest first. */
export function trendCharts(sessions) {
  const xs = xPositions(sessions);
  return FIGURES.map((figure) => chart(figure, sessions, xs));
}
