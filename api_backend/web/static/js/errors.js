// Error codes from the API (and from the browser itself) → a plain sentence and what to do about it.
import { formatBytes } from "./format.js";

const MESSAGES = {
  invalid_video: [
    "This file isn't a video we can read.",
    "It may be damaged, empty or not really a video. Export it again as MP4 (H.264) and upload that file.",
  ],
  upload_too_large: [
    "This video is too large.",
    (ctx) =>
      `The limit is ${ctx.limit ? formatBytes(ctx.limit) : "set by the server"}. Trim the clip or export it at a lower resolution, then upload it again.`,
  ],
  unsupported_file_type: [
    "That file doesn't look like a video.",
    "Choose a video file, for example .mp4, .mov, .m4v, .webm or .mkv.",
  ],
  empty_file: ["That file is empty.", "Choose the video again; if it came from a phone, wait until it has finished copying."],
  no_file: ["No video chosen yet.", "Drop a video on the box or press “Choose a video”."],
  model_not_found: [
    "The chosen pose model isn't installed on this server.",
    "Pick another model — the default one is always available — and upload again.",
  ],
  unknown_model: [
    "The chosen pose model isn't installed on this server.",
    "Pick another model — the default one is always available — and upload again.",
  ],
  video_too_long: [
    "This video is longer than this server accepts.",
    "Trim it, for example one round at a time, and upload the parts.",
  ],
  resolution_too_high: [
    "This video's picture is larger than this server accepts.",
    "Export it at 1080p (or 4K at most) and upload that file.",
  ],
  gpu_unavailable: [
    "No GPU is available for this job.",
    "Choose “Auto” or “CPU” as the device and upload again. CPU analysis is slower but works everywhere.",
  ],
  time_limit_exceeded: [
    "The analysis took too long and was stopped.",
    "Upload a shorter clip, for example one round at a time.",
  ],
  transient_failure: [
    "A temporary problem on our side stopped the analysis.",
    "Nothing is wrong with your video. Upload it again in a few minutes.",
  ],
  cancelled: ["This job was cancelled.", "Upload the video again if you still want it analysed."],
  upload_aborted: ["Upload cancelled.", "Nothing was sent for analysis. Choose a video to start again."],
  network_error: [
    "We couldn't reach the server.",
    "Check your connection, then try again. If the upload was interrupted, start it again.",
  ],
  queue_unavailable: [
    "The analysis service is offline or busy.",
    "Your video was not queued. Try again in a minute.",
  ],
  enqueue_failed: [
    "The analysis service was offline when this video arrived.",
    "Upload the video again in a minute.",
  ],
  internal_error: [
    "Something went wrong on the server.",
    "Try again. If it keeps happening, tell your administrator and give them the job id.",
  ],
  analysis_failed: [
    "The analysis could not be completed.",
    "Try another recording of the session, or a shorter clip.",
  ],
  invalid_keypoints: [
    "The analysis produced unusable data.",
    "Try again; if it keeps happening, tell your administrator and give them the job id.",
  ],
  unauthorized: [
    "This server needs an API key.",
    "Ask your administrator for a key and enter it under “API key” at the bottom of the upload page.",
  ],
  rate_limited: ["Too many requests right now.", "Wait a moment, then try again."],
  service_unavailable: ["The service is temporarily unavailable.", "Wait a moment, then try again."],
  job_not_found: ["We can't find this job.", "It may have been deleted. Go to your jobs and pick another one."],
  output_not_ready: ["The results aren't ready yet.", "Wait until the analysis has finished."],
  output_missing: [
    "The results of this job are no longer stored.",
    "Old results are cleaned up after a while. Upload the video again to get them back.",
  ],
  job_finished: ["This job has already finished.", "There is nothing left to cancel."],
  missing_file: ["The server didn't receive a video.", "Choose the video again and upload it."],
  malformed_multipart: ["The upload arrived damaged.", "Upload the video again."],
  unsupported_media_type: ["The upload arrived in a form the server doesn't accept.", "Reload the page and try again."],
  validation_error: ["The server didn't accept the upload options.", "Reload the page, check the options and try again."],
  config_unavailable: [
    "We couldn't load the upload settings.",
    "You can still upload; the server checks the size itself. Reload the page if problems continue.",
  ],
};

/**
 * {title, advice, code, detail} for an error code (and the server's own message as detail).
 * ctx: {limit: bytes} for size errors.
 */
export function explain(code, serverMessage = "", ctx = {}) {
  const entry = MESSAGES[code];
  if (!entry) {
    return {
      code,
      title: "Something went wrong.",
      advice: "Try again. If it keeps happening, tell your administrator.",
      detail: serverMessage ? `${serverMessage} (${code})` : code || "",
    };
  }
  const [title, advice] = entry;
  return {
    code,
    title,
    advice: typeof advice === "function" ? advice(ctx) : advice,
    detail: serverMessage || "",
  };
}
