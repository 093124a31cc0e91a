// Result page: live progress while the job runs (with cancel), then the annotated video, the punch
// timeline, the summary numbers and the downloads.
import { ApiError, cancelJob, getJob, getOutputJson, outputUrl } from "./api.js";
import { $, announce, dataTable, h } from "./dom.js";
import { explain } from "./errors.js";
import {
  capitalise,
  formatBytes,
  formatClock,
  formatDate,
  formatDuration,
  formatPercent,
  isTerminal,
  jobName,
  stageLabel,
} from "./format.js";
import { errorBox, progressBar, statusBadge } from "./joblist.js";
import { watchJob } from "./live.js";
import { renderCoaching } from "./coaching.js";
import { PUNCH_TYPES, TYPE_LETTER, createTimeline, punchLabel } from "./timeline.js";

const OUTPUTS = [
  ["annotated.mp4", "Annotated video", "The video with the skeleton and punch labels drawn on it (H.264 MP4)."],
  ["punches.json", "Punches", "Every punch: time, hand, lead or rear, type and confidence (JSON)."],
  ["summary.json", "Summary", "Counts per type and hand, punches per minute, stance and how it was analysed (JSON)."],
  ["keypoints.json", "Keypoints", "The skeleton of every person in every frame, in pixels (JSON)."],
];

const jobId = decodeURIComponent(window.location.pathname.split("/").filter(Boolean).pop() || "");
const title = $("#job-title");
const headerMeta = $("#job-meta");
const badgeSlot = $("#job-badge");
const progressSection = $("#progress-section");
const progressStage = $("#progress-stage");
const cancelButton = $("#cancel-job");
const problem = $("#job-problem");
const results = $("#results");
const liveStatus = $("#result-status");

const bar = progressBar("Analysis progress");
$("#progress-bar-slot").replaceWith(bar.element);
let current = null;
let stopWatching = () => {};
let resultsShown = false;

function showHeader(job) {
  current = job;
  document.title = `${jobName(job, "Job")} · Shadow Trainer`;
  title.textContent = jobName(job, "Video");
  badgeSlot.replaceChildren(statusBadge(job.status));
  document.body.dataset.status = job.status;
  const parts = [`Uploaded ${formatDate(job.created_at)}`, formatBytes(job.size)];
  if (job.video) parts.push(`${job.video.width}×${job.video.height}`, formatDuration(job.video.duration));
  headerMeta.textContent = parts.filter(Boolean).join(" · ");
}

function update(job) {
  const previous = current && current.status;
  showHeader(job);
  const running = !isTerminal(job);
  progressSection.hidden = !running;
  if (running) {
    bar.set(job.progress);
    progressStage.textContent = `${stageLabel(job.stage, job.status)} · ${formatPercent(job.progress)}`;
  }
  problem.replaceChildren();
  if (job.status === "failed") {
    problem.append(errorBox(job.error ? job.error.code : "internal_error", job.error ? job.error.message : ""), uploadAgainLink());
  } else if (job.status === "cancelled") {
    problem.append(errorBox("cancelled", ""), uploadAgainLink());
  }
  problem.hidden = problem.childElementCount === 0;
  if (previous && previous !== job.status) announce(liveStatus, `Status: ${job.status}.`);
  if (job.status === "succeeded" && !resultsShown) {
    resultsShown = true;
    showResults(job);
  }
}

function uploadAgainLink() {
  return h("p", {}, h("a", { class: "button", href: "/" }, "Upload a video"));
}

cancelButton.addEventListener("click", async () => {
  cancelButton.disabled = true;
  progressStage.textContent = "Cancelling…";
  try {
    update(await cancelJob(jobId));
  } catch (error) {
    const info = explain(error.code, error.message);
    announce(liveStatus, `${info.title} ${info.advice}`);
  } finally {
    cancelButton.disabled = false;
  }
});

function stat(label, value, id) {
  return h("div", { class: "stat" }, h("dt", {}, label), h("dd", { id }, value));
}

function stanceText(stance, confidence) {
  if (!stance || stance === "unknown") return "Unknown";
  return typeof confidence === "number" ? `${capitalise(stance)} (${Math.round(confidence * 100)}%)` : capitalise(stance);
}

/** One row per fighter (sparring, pads): who, stance, punches, how much of the video they are in. */
function fighterTable(fighters, mainTrack) {
  return dataTable("fighters-table", "Fighters", ["Fighter", "Stance", "Punches", "Per minute", "In view"],
    fighters.map((f) =>
      h(
        "tr",
        { dataset: { track: String(f.track_id) } },
        h("th", { scope: "row" }, `#${f.track_id}${f.track_id === mainTrack ? " (main)" : ""}`),
        h("td", {}, stanceText(f.stance, f.stance_confidence)),
        h("td", {}, String(f.total_punches)),
        h("td", {}, (f.punches_per_minute ?? 0).toFixed(1)),
        h("td", {}, `${Math.round((f.seen ?? 0) * 100)}%`),
      ),
    ));
}

function renderSummary(summary, punchesDoc, job) {
  const total = summary.total_punches ?? punchesDoc.punches.length;
  const duration = summary.duration ?? (job.video ? job.video.duration : 0);
  const byType = summary.by_type || {};
  const byTypeHand = summary.by_type_and_hand || {};
  const stance = summary.stance || punchesDoc.stance;
  const largest = Math.max(1, ...PUNCH_TYPES.map((type) => byType[type] || 0));
  const model = [summary.model || job.model, summary.runtime, summary.device].filter(Boolean).join(" · ");
  const fighters = summary.fighters || [];
  return h(
    "div",
    { class: "summary" },
    summary.boxer_found === false
      ? h(
          "p",
          { id: "no-boxer", class: "notice", role: "note" },
          "No boxer was found in this video: nobody in view holds a guard or throws punches, so there are no punches and no stance.",
        )
      : "",
    h(
      "dl",
      { class: "stats" },
      stat("Punches", String(total), "stat-total"),
      stat("Per minute", (summary.punches_per_minute ?? 0).toFixed(1), "stat-per-minute"),
      stat("Stance", stanceText(stance, summary.stance_confidence), "stat-stance"),
      stat("Duration", formatDuration(duration), "stat-duration"),
      stat("Fighters", String(fighters.length), "stat-fighters"),
    ),
    fighters.length > 1 ? fighterTable(fighters, summary.main_track_id) : "",
    h(
      "table",
      { class: "type-table" },
      h("caption", {}, "Punches by type and hand"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Type"), h("th", { scope: "col" }, "Left"), h("th", { scope: "col" }, "Right"), h("th", { scope: "col" }, "Total"))),
      h(
        "tbody",
        {},
        ...PUNCH_TYPES.map((type) => {
          const count = byType[type] || 0;
          const hands = byTypeHand[type] || {};
          return h(
            "tr",
            { dataset: { type } },
            h(
              "th",
              { scope: "row" },
              h("span", { class: `swatch type-${type}`, "aria-hidden": "true" }, TYPE_LETTER[type]),
              capitalise(type),
            ),
            h("td", {}, String(hands.left ?? 0)),
            h("td", {}, String(hands.right ?? 0)),
            h(
              "td",
              { class: "bar-cell" },
              h("span", { class: "count" }, String(count)),
              h("span", { class: `bar type-${type}`, style: { width: `${(count / largest) * 100}%` }, "aria-hidden": "true" }),
            ),
          );
        }),
      ),
    ),
    h("p", { class: "muted", id: "stat-model" }, `Analysed with ${model || "the default model"}.`),
  );
}

function renderDownloads(job) {
  return h(
    "ul",
    { class: "downloads" },
    ...OUTPUTS.map(([name, label, description]) => {
      const available = name in (job.outputs || {});
      return h(
        "li",
        {},
        available
          ? h("a", { href: outputUrl(job, name), download: name, class: "download-link", dataset: { output: name } }, h("strong", {}, label), h("span", { class: "file" }, name))
          : h("span", { class: "download-link disabled" }, h("strong", {}, label), h("span", { class: "file" }, `${name} (not available)`)),
        h("p", { class: "muted" }, description),
      );
    }),
  );
}

const CSV_COLUMNS = ["t", "t_start", "t_end", "track_id", "hand", "side", "type", "confidence", "peak_speed", "guard_dropped"];

/** punches.json as a spreadsheet: the same rows, one column per field. */
function punchesCsvLink(punches) {
  const cell = (value) => (value === null || value === undefined ? "" : String(value));
  const rows = [CSV_COLUMNS.join(","), ...punches.map((p) => CSV_COLUMNS.map((c) => cell(p[c])).join(","))];
  const url = URL.createObjectURL(new Blob([`${rows.join("\n")}\n`], { type: "text/csv" }));
  return h(
    "li",
    {},
    h("a", { href: url, download: "punches.csv", class: "download-link", id: "punches-csv" }, h("strong", {}, "Punches (CSV)"), h("span", { class: "file" }, "punches.csv")),
    h("p", { class: "muted" }, "The punches as a spreadsheet: one row per punch."),
  );
}

function renderPunchList(punches, seek) {
  return h(
    "details",
    { class: "punch-list" },
    h("summary", {}, `List of punches (${punches.length})`),
    h(
      "ol",
      {},
      ...punches.map((punch) =>
        h(
          "li",
          {},
          h(
            "button",
            { type: "button", class: "link-button", onclick: () => seek(punch.t_start ?? punch.t) },
            `${formatClock(punch.t_start ?? punch.t)} — ${capitalise(punch.type)}, ${punch.hand} hand`,
          ),
          h("span", { class: "visually-hidden" }, punchLabel(punch)),
        ),
      ),
    ),
  );
}

async function showResults(job) {
  const video = h("video", {
    id: "annotated-video",
    controls: true,
    playsinline: true,
    muted: true,
    preload: "auto",
    src: outputUrl(job, "annotated.mp4"),
    "aria-label": `Annotated video of ${job.filename}`,
  });
  video.muted = true;
  const videoError = h("div", { role: "alert" });
  video.addEventListener("error", () => {
    videoError.replaceChildren(errorBox("output_missing", "the annotated video could not be played"));
  });
  const timelineRoot = h("div", { class: "timeline", id: "timeline" }, h("p", { class: "muted" }, "Loading punches…"));
  const summaryRoot = h("div", { id: "summary" }, h("p", { class: "muted" }, "Loading summary…"));
  const coachingRoot = h("div", { id: "coaching" }, h("p", { class: "muted" }, "Loading…"));
  const downloads = renderDownloads(job);
  results.replaceChildren(
    h("section", { class: "card video-card", "aria-labelledby": "video-heading" }, h("h2", { id: "video-heading" }, "Annotated video"), h("div", { class: "video-frame" }, video), videoError),
    h("section", { class: "card", "aria-labelledby": "timeline-heading" }, h("h2", { id: "timeline-heading" }, "Punch timeline"), timelineRoot),
    h("section", { class: "card", "aria-labelledby": "summary-heading" }, h("h2", { id: "summary-heading" }, "Summary"), summaryRoot),
    h("section", { class: "card", "aria-labelledby": "coaching-heading" }, h("h2", { id: "coaching-heading" }, "Coaching"), coachingRoot),
    h("section", { class: "card", "aria-labelledby": "downloads-heading" }, h("h2", { id: "downloads-heading" }, "Downloads"), downloads),
  );
  results.hidden = false;

  const seek = (seconds) => {
    video.currentTime = seconds;
    if (timeline) timeline.setTime(seconds);
    announce(liveStatus, `Video at ${formatClock(seconds)}.`);
  };
  let timeline = null;
  try {
    const [punchesDoc, summary] = await Promise.all([
      getOutputJson(job, "punches.json"),
      getOutputJson(job, "summary.json"),
    ]);
    const punches = Array.isArray(punchesDoc.punches) ? punchesDoc.punches : [];
    const duration = summary.duration || (job.video ? job.video.duration : 0);
    timeline = createTimeline(timelineRoot, { punches, duration, onSeek: seek });
    if (punches.length) timelineRoot.append(renderPunchList(timeline.punches, seek));
    summaryRoot.replaceChildren(renderSummary(summary, { ...punchesDoc, punches }, job));
    coachingRoot.replaceChildren(renderCoaching(summary, seek));
    downloads.append(punchesCsvLink(punches));
    video.addEventListener("timeupdate", () => timeline.setTime(video.currentTime));
    video.addEventListener("seeked", () => timeline.setTime(video.currentTime));
    results.dataset.ready = "1";
  } catch (error) {
    const code = error instanceof ApiError ? error.code : "internal_error";
    timelineRoot.replaceChildren(errorBox(code, error.message));
    summaryRoot.replaceChildren();
    results.dataset.ready = "error";
  }
}

async function main() {
  try {
    const job = await getJob(jobId);
    update(job);
    if (!isTerminal(job)) {
      stopWatching = watchJob(jobId, update, {
        onError: (error) => problem.replaceChildren(errorBox(error.code, error.message)),
      });
    }
  } catch (error) {
    title.textContent = "Job not found";
    problem.hidden = false;
    problem.replaceChildren(errorBox(error.code || "network_error", error.message), h("p", {}, h("a", { class: "button", href: "/jobs" }, "See all jobs")));
    document.body.dataset.status = "missing";
  }
}

window.addEventListener("pagehide", () => stopWatching());
main();
