// Upload page: choose or drop a video, check it here, upload it with a real progress bar, follow the job.
import { getApiKey, getConfig, resultPage, setApiKey, uploadVideo } from "./api.js";
import { $, announce, h } from "./dom.js";
import { explain } from "./errors.js";
import { formatBytes } from "./format.js";
import { createJobList, errorBox, progressBar } from "./joblist.js";

const VIDEO_EXTENSIONS = [".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".3gp", ".wmv", ".ts", ".mts", ".flv", ".ogv"];

const form = $("#upload-form");
const input = $("#file-input");
const dropZone = $("#drop-zone");
const chosen = $("#chosen-file");
const limitHint = $("#limit-hint");
const modelSelect = $("#model");
const deviceSelect = $("#device");
const submit = $("#upload-button");
const cancelButton = $("#cancel-upload");
const progressSlot = $("#upload-progress");
const progressText = $("#upload-progress-text");
const messages = $("#upload-messages");
const liveStatus = $("#upload-status");

const bar = progressBar("Upload progress");
progressSlot.prepend(bar.element);

let config = { max_upload_bytes: null, default_model: "", models: [], devices: ["auto", "cpu", "gpu"] };
let file = null;
let upload = null;

const jobs = createJobList($("#recent-jobs"), { limit: 10, title: "Recent jobs" });

function showError(code, message = "", ctx = {}) {
  messages.replaceChildren(
    h("div", { class: "alert", role: "alert" }, errorBox(code, message, { limit: config.max_upload_bytes, ...ctx })),
  );
}

function clearMessages() {
  messages.replaceChildren();
}

/** Checks that need no server: is there a file, does it look like a video, is it under the limit. */
function checkFile(candidate) {
  if (!candidate) return "no_file";
  const name = candidate.name.toLowerCase();
  const looksLikeVideo =
    (candidate.type || "").startsWith("video/") || VIDEO_EXTENSIONS.some((ext) => name.endsWith(ext));
  if (!looksLikeVideo) return "unsupported_file_type";
  if (candidate.size === 0) return "empty_file";
  if (config.max_upload_bytes && candidate.size > config.max_upload_bytes) return "upload_too_large";
  return null;
}

function choose(candidate) {
  clearMessages();
  const problem = checkFile(candidate);
  if (problem) {
    file = null;
    chosen.replaceChildren();
    chosen.hidden = true;
    submit.disabled = true;
    input.value = "";
    showError(problem, "", { limit: config.max_upload_bytes });
    return;
  }
  file = candidate;
  chosen.replaceChildren(
    h("span", { class: "file-name" }, candidate.name),
    h("span", { class: "file-size" }, formatBytes(candidate.size)),
  );
  chosen.hidden = false;
  submit.disabled = false;
  announce(liveStatus, `${candidate.name} chosen, ${formatBytes(candidate.size)}. Press “Upload and analyse”.`);
}

function setUploading(active) {
  form.classList.toggle("is-uploading", active);
  submit.disabled = active || !file;
  cancelButton.hidden = !active;
  progressSlot.hidden = !active && progressSlot.dataset.keep !== "1";
  input.disabled = active;
  modelSelect.disabled = active;
  deviceSelect.disabled = active;
}

async function start() {
  if (upload) return;
  const problem = checkFile(file);
  if (problem) {
    showError(problem);
    return;
  }
  clearMessages();
  progressSlot.dataset.keep = "0";
  bar.set(0);
  progressText.textContent = `Uploading ${file.name}…`;
  setUploading(true);
  const fields = { model: modelSelect.value, device: deviceSelect.value };
  upload = uploadVideo(file, fields, {
    chunkSize: config.resumable_chunk_bytes,
    onRetry: (attempt, delayMs) => {
      progressText.textContent = `Connection lost — trying again in ${Math.round(delayMs / 1000)} s (attempt ${attempt}). What was sent is kept.`;
      form.dataset.retries = String(attempt);
      announce(liveStatus, "Connection lost. The upload goes on from where it stopped once the network is back.");
    },
    onResume: () => announce(liveStatus, `Resuming the earlier upload of ${file.name}.`),
    onProgress: (loaded, total) => {
      const fraction = total ? loaded / total : 0;
      bar.set(fraction);
      progressText.textContent = `Uploading ${file.name}: ${formatBytes(loaded)} of ${formatBytes(total)} (${Math.round(fraction * 100)} %)`;
      document.dispatchEvent(new CustomEvent("upload-progress", { detail: { loaded, total } }));
    },
  });
  try {
    const job = await upload.promise;
    bar.set(1);
    jobs.prepend(job);
    messages.replaceChildren(
      h(
        "div",
        { class: "notice success", role: "status" },
        h("p", {}, h("strong", {}, "Uploaded. "), `${job.filename} is queued for analysis — follow its progress below.`),
        h("p", {}, h("a", { href: resultPage(job.id), class: "button small", id: "open-result" }, "Open the result page")),
      ),
    );
    announce(liveStatus, `${job.filename} uploaded and queued for analysis.`);
    file = null;
    input.value = "";
    chosen.hidden = true;
  } catch (error) {
    showError(error.code || "network_error", error.code === "upload_aborted" ? "" : error.message);
    if (error.code === "upload_aborted") announce(liveStatus, "Upload cancelled.");
  } finally {
    upload = null;
    setUploading(false);
    progressSlot.hidden = true;
  }
}

input.addEventListener("change", () => choose(input.files && input.files[0]));

for (const type of ["dragenter", "dragover"]) {
  dropZone.addEventListener(type, (event) => {
    event.preventDefault();
    if (!upload) dropZone.classList.add("is-dragging");
  });
}
for (const type of ["dragleave", "dragend", "drop"]) {
  dropZone.addEventListener(type, () => dropZone.classList.remove("is-dragging"));
}
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  if (upload) return;
  const dropped = event.dataTransfer && event.dataTransfer.files;
  if (!dropped || dropped.length === 0) return;
  if (dropped.length > 1) announce(liveStatus, "Only the first file is used.");
  choose(dropped[0]);
});
// A file dropped next to the box would make the browser navigate away to it.
for (const type of ["dragover", "drop"]) window.addEventListener(type, (event) => event.preventDefault());

form.addEventListener("submit", (event) => {
  event.preventDefault();
  start();
});
cancelButton.addEventListener("click", () => {
  if (upload) upload.abort();
});

function fillOptions() {
  const models = config.models.length ? config.models : [config.default_model].filter(Boolean);
  modelSelect.replaceChildren(
    ...models.map((name) =>
      h("option", { value: name, selected: name === config.default_model }, name === config.default_model ? `${name} (default)` : name),
    ),
  );
  const deviceLabels = { auto: "Auto (GPU when free, else CPU)", cpu: "CPU", gpu: "GPU" };
  deviceSelect.replaceChildren(...config.devices.map((name) => h("option", { value: name }, deviceLabels[name] || name)));
  limitHint.textContent = config.max_upload_bytes
    ? `MP4, MOV, WebM or MKV, up to ${formatBytes(config.max_upload_bytes)}.`
    : "MP4, MOV, WebM or MKV.";
  form.dataset.ready = "1";
}

getConfig()
  .then((loaded) => {
    config = loaded;
    fillOptions();
  })
  .catch((error) => {
    fillOptions();
    const info = explain("config_unavailable", error.message);
    limitHint.textContent = `${info.title} ${info.advice}`;
  });

const keyForm = $("#api-key-form");
const keyInput = $("#api-key");
const keyStatus = $("#api-key-status");
keyInput.value = getApiKey();
keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  setApiKey(keyInput.value.trim());
  announce(keyStatus, keyInput.value.trim() ? "Key saved. Reloading your jobs…" : "No key saved.");
  jobs.reload();
});
$("#api-key-clear").addEventListener("click", () => {
  keyInput.value = "";
  setApiKey("");
  announce(keyStatus, "Key forgotten.");
  jobs.reload();
});
