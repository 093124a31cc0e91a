// Progress page: the owner's analysed sessions over a range of dates, as charts and a table.
// `?since=YYYY-MM-DD&until=YYYY-MM-DD` choose the range (the form writes them).
import { ApiError, listSessions, resultPage } from "./api.js";
import { $, dataTable, h } from "./dom.js";
import { formatDate, formatDuration, formatNumber } from "./format.js";
import { errorBox } from "./joblist.js";
import { FIGURES, trendCharts } from "./trends.js";

const params = new URLSearchParams(window.location.search);
const since = params.get("since") || "";
const until = params.get("until") || "";
$("#since").value = since;
$("#until").value = until;

function sessionsTable(sessions) {
  const headings = ["Session", "Date", "Length", ...FIGURES.map((figure) => figure.label)];
  const rows = [...sessions].reverse().map((point) =>
    h("tr", { dataset: { jobId: point.id } },
      h("th", { scope: "row" }, h("a", { href: resultPage(point.id) }, point.name)),
      h("td", {}, formatDate(point.created_at)),
      h("td", {}, formatDuration(point.figures.duration_s)),
      ...FIGURES.map((figure) => h("td", { dataset: { figure: figure.key } }, formatNumber(point.figures[figure.key], figure.digits)))));
  return dataTable("sessions-table", "Sessions, newest first", headings, rows);
}

async function show() {
  const root = $("#trends");
  root.replaceChildren(h("p", { class: "progress-text" }, "Loading sessions…"));
  try {
    const { sessions, truncated } = await listSessions({ since, until });
    if (!sessions.length) {
      root.replaceChildren(h("p", { class: "empty", id: "no-sessions" },
        since || until ? "No analysed session in these dates." : "No analysed session yet. Upload a video to start."));
      return;
    }
    const note = h("p", { class: "note", hidden: !truncated }, "Only the newest sessions are shown: choose a shorter range.");
    root.replaceChildren(
      h("h2", {}, `${sessions.length} session${sessions.length === 1 ? "" : "s"}`),
      note,
      h("div", { class: "trend-grid" }, ...trendCharts(sessions)),
      sessionsTable(sessions),
    );
  } catch (error) {
    const code = error instanceof ApiError ? error.code : "network_error";
    root.replaceChildren(errorBox(code, error.message));
  } finally {
    root.dataset.ready = "1";
  }
}

show();
