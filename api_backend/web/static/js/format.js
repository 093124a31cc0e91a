// Numbers, times and labels in plain words.

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "";
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toFixed(digits).replace(/\.0$/, "")} ${units[unit]}`;
}

/** 75.3 → "1:15.3"; 4 → "0:04.0" */
export function formatClock(seconds, decimals = 1) {
  const total = Math.max(0, Number(seconds) || 0);
  const minutes = Math.floor(total / 60);
  const rest = total - minutes * 60;
  const width = decimals > 0 ? 3 + decimals : 2;
  return `${minutes}:${rest.toFixed(decimals).padStart(width, "0")}`;
}

/** 75 → "1 min 15 s"; 4.2 → "4.2 s" */
export function formatDuration(seconds) {
  const total = Math.max(0, Number(seconds) || 0);
  if (total < 60) return `${total < 10 ? total.toFixed(1) : Math.round(total)} s`;
  const minutes = Math.floor(total / 60);
  const rest = Math.round(total - minutes * 60);
  if (minutes < 60) return rest ? `${minutes} min ${rest} s` : `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return `${hours} h ${minutes % 60} min`;
}

export function formatDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

export function formatPercent(fraction) {
  return `${Math.round(Math.min(Math.max(Number(fraction) || 0, 0), 1) * 100)} %`;
}

/** 4.216, 1 → "4.2"; no value → "—". */
export function formatNumber(value, digits) {
  return value === null || value === undefined ? "—" : Number(value).toFixed(digits);
}

/** What a person calls a job: the title they gave it, else the file's name. */
export function jobName(job, fallback = "video") {
  return job.title || job.filename || fallback;
}

export function capitalise(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : "";
}

export const STATUS_LABELS = {
  queued: "Waiting",
  running: "Analysing",
  succeeded: "Done",
  failed: "Failed",
  cancelled: "Cancelled",
};

const STAGE_LABELS = {
  queued: "Waiting for a free worker",
  downloading: "Fetching the video",
  loading_model: "Loading the pose model",
  analyzing: "Finding the skeleton in every frame",
  classifying: "Detecting punches",
  writing: "Drawing the annotated video",
  uploading: "Saving the results",
  done: "Finished",
  failed: "Stopped",
  cancelled: "Cancelled",
};

export function stageLabel(stage, status) {
  if (status === "queued") return STAGE_LABELS.queued;
  return STAGE_LABELS[stage] || (stage ? capitalise(stage.replaceAll("_", " ")) : "Starting");
}

export const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);

export function isTerminal(job) {
  return TERMINAL.has(job.status);
}
