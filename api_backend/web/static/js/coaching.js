// The coaching section of the result page: output over time, rounds, combinations, speed, guard and
// stance switches — every figure read from summary.json (overall, or one fighter's), none computed here.
import { dataTable, h, s } from "./dom.js";
import { capitalise, formatClock, formatNumber } from "./format.js";
import { PUNCH_TYPES, TYPE_LETTER } from "./timeline.js";

const CHART_H = 120;
const BAR_W = 18;
const BAR_GAP = 4;
const PAD_L = 28;
const AXIS_H = 18;
// Bin start times ("0:10") need this much room each, or neighbouring labels run into each other.
const LABEL_W = 40;

/** Punches per 10 s, stacked by type (summary.timeline). */
function outputChart(timeline) {
  const most = Math.max(1, ...timeline.map((bin) => bin.total));
  const width = PAD_L + timeline.length * (BAR_W + BAR_GAP) + 8;
  const y = (count) => (count / most) * (CHART_H - 8);
  const labelEvery = Math.max(Math.ceil(timeline.length / 12), Math.ceil(LABEL_W / (BAR_W + BAR_GAP)));
  const bars = timeline.map((bin, i) => {
    const x = PAD_L + i * (BAR_W + BAR_GAP);
    let base = CHART_H;
    const parts = PUNCH_TYPES.filter((type) => bin[type] > 0).map((type) => {
      const height = y(bin[type]);
      base -= height;
      return s("rect", { x, y: base, width: BAR_W, height, class: `type-${type}` },
        s("title", {}, `${formatClock(bin.t)}: ${bin[type]} ${type}`));
    });
    const label = i % labelEvery === 0
      ? s("text", { x: x + BAR_W / 2, y: CHART_H + 13, "text-anchor": "middle", class: "axis-label" }, formatClock(bin.t, 0))
      : null;
    return s("g", { class: "bin", dataset: { t: String(bin.t), total: String(bin.total) } }, ...parts, label);
  });
  return h(
    "figure",
    { class: "chart", id: "output-chart" },
    h("figcaption", {}, "Punches per 10 seconds, by type"),
    h(
      "div",
      { class: "chart-scroll" },
      s("svg", { viewBox: `0 0 ${width} ${CHART_H + AXIS_H}`, width, height: CHART_H + AXIS_H, role: "img",
        "aria-label": `Punches per 10 seconds: at most ${most}` },
        s("text", { x: 2, y: 12, class: "axis-label" }, String(most)),
        s("line", { x1: PAD_L - 4, x2: width, y1: CHART_H, y2: CHART_H, class: "axis" }),
        ...bars),
    ),
  );
}

function roundsTable(rounds) {
  return dataTable("rounds-table", "Work and rest", ["Segment", "From", "To", "Punches", "Per min"],
    rounds.map((segment, i) => h("tr", { dataset: { kind: segment.kind } },
      h("th", { scope: "row" }, `${i + 1}. ${capitalise(segment.kind)}`),
      h("td", {}, formatClock(segment.t_start)), h("td", {}, formatClock(segment.t_end)),
      h("td", {}, String(segment.punches)), h("td", {}, segment.punches_per_minute.toFixed(1)))));
}

function speedTable(speed) {
  return dataTable("speed-table", "Peak speed (shoulder widths per second)", ["Type", "Punches", "Mean", "Fastest"],
    PUNCH_TYPES.map((type) => {
      const row = speed.by_type[type];
      return h("tr", { dataset: { type } },
        h("th", { scope: "row" }, h("span", { class: `swatch type-${type}`, "aria-hidden": "true" }, TYPE_LETTER[type]), capitalise(type)),
        h("td", {}, String(row.count)), h("td", {}, formatNumber(row.mean, 1)), h("td", {}, formatNumber(row.max, 1)));
    }));
}

function change(label, fraction) {
  // summary.json leaves the change out with no work time, or nothing in its first third to compare with.
  if (fraction === null || fraction === undefined) return `${label}: no change to show (no punch in the first third of the work time)`;
  const percent = Math.round(Math.abs(fraction) * 100);
  return `${label}: ${fraction < 0 ? "down" : "up"} ${percent} % from the first to the last third`;
}

function seekList(id, items, text, seek) {
  return h("ul", { class: "seek-list", id },
    ...items.map((item) => h("li", {}, h("button", { type: "button", class: "link-button", onclick: () => seek(item.t) }, text(item)))));
}

/** One fighter's (or everyone's) figures. */
function figures(source, seek) {
  const drops = source.guard ? source.guard.drops : [];
  const dropped = source.guard && source.guard.dropped_share !== null ? Math.round(source.guard.dropped_share * 100) : null;
  return h(
    "div",
    { class: "coaching-figures" },
    outputChart(source.timeline || []),
    roundsTable(source.rounds || []),
    h("h3", {}, "Combinations"),
    (source.top_combos || []).length
      ? h("ol", { id: "top-combos" }, ...source.top_combos.map((combo) =>
          h("li", {}, h("strong", {}, combo.name.split("-").map(capitalise).join(" – ")), ` × ${combo.count}`)))
      : h("p", { class: "muted", id: "top-combos" }, "No combinations (punches ≤ 0.6 s apart)."),
    speedTable(source.speed),
    h("p", { id: "fatigue" }, change("Output", source.speed.fatigue.output_change), h("br"), change("Speed", source.speed.fatigue.speed_change)),
    h("h3", {}, "Guard"),
    h("p", { id: "guard-summary" },
      source.guard.return_s.mean === null ? "No punches." : `Hands come back in ${source.guard.return_s.mean.toFixed(2)} s on average. `,
      dropped === null ? "" : `The other hand dropped during ${dropped} % of the punches.`),
    drops.length
      ? seekList("guard-drops", drops, (drop) => `${formatClock(drop.t)} — the other hand dropped (${drop.hand} punch)`, seek)
      : h("p", { class: "muted", id: "guard-drops" }, "No dropped guard seen."),
    (source.stance_switches || []).length
      ? seekList("stance-switches", source.stance_switches, (sw) => `${formatClock(sw.t)} — ${capitalise(sw.from)} to ${sw.to}`, seek)
      : "",
  );
}

/** The coaching section: tabs for everyone and each fighter when there are several (sparring). */
export function renderCoaching(summary, seek) {
  if (!summary.timeline) return h("p", { class: "muted" }, "This job was analysed before coaching figures existed.");
  const fighters = summary.fighters || [];
  const sources = [["Everyone", summary], ...fighters.map((f) => [`Fighter #${f.track_id}`, f])];
  const panel = h("div", { id: "coaching-panel" }, figures(summary, seek));
  if (fighters.length < 2) return h("div", { class: "coaching" }, panel);
  const tabs = sources.map(([label, source], i) =>
    h("button", { type: "button", role: "tab", class: "tab", "aria-selected": i === 0 ? "true" : "false", dataset: { index: String(i) },
      onclick: (event) => {
        for (const tab of tabs) tab.setAttribute("aria-selected", tab === event.currentTarget ? "true" : "false");
        panel.replaceChildren(figures(source, seek));
      } }, label));
  return h("div", { class: "coaching" }, h("div", { role: "tablist", class: "tabs", "aria-label": "Whose figures" }, ...tabs), panel);
}
