// The REST API (same origin): JSON helpers, the upload with progress, and error objects with stable codes.

export class ApiError extends Error {
  constructor(status, code, message, details = undefined) {
    super(message || code);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const KEY_STORAGE = "shadow-trainer.api-key";

/** The API key this browser sends (servers in key mode need one; open servers ignore it). */
export function getApiKey() {
  try {
    return window.localStorage.getItem(KEY_STORAGE) || "";
  } catch {
    return "";
  }
}

export function setApiKey(key) {
  try {
    if (key) window.localStorage.setItem(KEY_STORAGE, key);
    else window.localStorage.removeItem(KEY_STORAGE);
  } catch {
    // Storage disabled (private mode): the key lasts for this page only.
  }
}

function authHeaders() {
  const key = getApiKey();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

function errorFromBody(status, body) {
  const error = body && typeof body === "object" ? body.error : null;
  if (error && error.code) return new ApiError(status, error.code, error.message || "", error.details);
  const generic = status === 413 ? "upload_too_large" : status >= 500 ? "internal_error" : "http_error";
  return new ApiError(status, generic, `HTTP ${status}`);
}

async function request(path, options = {}) {
  let response;
  try {
    const headers = { Accept: "application/json", ...authHeaders(), ...(options.headers || {}) };
    response = await fetch(path, { ...options, headers });
  } catch (cause) {
    throw new ApiError(0, "network_error", String(cause && cause.message ? cause.message : cause));
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) throw errorFromBody(response.status, body);
  return body;
}

export const jobPath = (id) => `/api/v1/jobs/${encodeURIComponent(id)}`;
export const outputPath = (id, name) => `${jobPath(id)}/outputs/${encodeURIComponent(name)}`;
export const eventsPath = (id) => `${jobPath(id)}/events`;

/** A link the API gave (signed), made relative when it points at this API so it works behind any proxy. */
function ownLink(link, fallback) {
  if (!link) return fallback;
  try {
    const url = new URL(link, window.location.href);
    return url.pathname.startsWith("/api/v1/jobs/") ? `${url.pathname}${url.search}` : url.href;
  } catch {
    return fallback;
  }
}

/** Where to fetch an output of a job: its signed link, else the plain output path (needs the API key). */
export function outputUrl(job, name) {
  return ownLink(job.outputs && job.outputs[name], outputPath(job.id, name));
}

/** The job list's still of a finished job, or null. */
export function thumbnailUrl(job) {
  return job.thumbnail ? ownLink(job.thumbnail, null) : null;
}
export const resultPage = (id) => `/jobs/${encodeURIComponent(id)}`;

export function getConfig() {
  return request("/api/v1/config");
}

export function listJobs({ status = "", limit = 20, cursor = "" } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (status) query.set("status", status);
  if (cursor) query.set("cursor", cursor);
  return request(`/api/v1/jobs?${query}`);
}

export function getJob(id) {
  return request(jobPath(id));
}

/** The owner's analysed sessions, oldest first: {sessions: [{id, created_at, name, figures}], truncated}. */
export function listSessions({ since = "", until = "", limit = 365 } = {}) {
  const query = new URLSearchParams({ limit: String(limit) });
  if (since) query.set("since", since);
  if (until) query.set("until", until);
  return request(`/api/v1/sessions?${query}`);
}

export function deleteJob(id) {
  return request(jobPath(id), { method: "DELETE" });
}

export function cancelJob(id) {
  return request(`${jobPath(id)}/cancel`, { method: "POST" });
}

/** An output document (punches.json, summary.json) of a finished job, parsed as JSON. */
export function getOutputJson(job, name) {
  return request(outputUrl(job, name));
}

// After a dropped connection, try again this long after each failure (about five minutes in all): a
// phone that loses its signal in a lift goes on where it stopped.
const RETRY_DELAYS_MS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000, 60000, 60000];

function tusError(error) {
  const response = error && error.originalResponse;
  if (!response) return new ApiError(0, "network_error", "the upload was interrupted");
  let body = null;
  try {
    body = JSON.parse(response.getBody());
  } catch {
    body = null;
  }
  return errorFromBody(response.getStatus(), body);
}

/** Whether a failed request of the upload is worth retrying: the network, the server, a busy upload. */
function worthRetrying(error) {
  const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
  return status === 0 || status === 409 || status === 423 || status === 429 || status >= 500;
}

async function createJobFromUpload(uploadUrl, fields) {
  const id = new URL(uploadUrl, window.location.href).pathname.split("/").filter(Boolean).pop();
  const options = Object.fromEntries(Object.entries(fields).filter(([, value]) => value));
  const send = () =>
    request(`/api/v1/uploads/${encodeURIComponent(id)}/job`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(options),
    });
  // The same upload always makes the same job, so asking again after a network error is safe.
  for (const delay of [1000, 3000, 10000]) {
    try {
      return await send();
    } catch (error) {
      if (error.code !== "network_error" && !(error.status >= 500)) throw error;
      await new Promise((resume) => setTimeout(resume, delay));
    }
  }
  return send();
}

/**
 * Upload a video with the tus protocol (tus-js-client), then make the job from it.
 * A dropped connection is retried from where the server's copy ends, and a page reload resumes the
 * same file's unfinished upload (tus-js-client keeps its address in localStorage).
 * Returns {promise, abort}; the promise resolves to the job and rejects with an ApiError
 * (code "upload_aborted" after abort()).
 */
export function uploadVideo(file, fields, { chunkSize, onProgress, onRetry, onResume } = {}) {
  let upload = null;
  let fail = () => {};
  let cancelled = false;
  const promise = new Promise((resolve, reject) => {
    fail = reject;
    upload = new window.tus.Upload(file, {
      endpoint: "/api/v1/uploads",
      chunkSize: chunkSize || 8 * 1024 * 1024,
      retryDelays: RETRY_DELAYS_MS,
      metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
      headers: authHeaders(),
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => onProgress && onProgress(sent, total),
      onShouldRetry: (error, attempt) => {
        const retry = worthRetrying(error);
        if (retry && onRetry) onRetry(attempt + 1, RETRY_DELAYS_MS[attempt] || 0);
        return retry;
      },
      onError: (error) => reject(tusError(error)),
      onSuccess: () => createJobFromUpload(upload.url, fields).then(resolve, reject),
    });
    upload
      .findPreviousUploads()
      .catch(() => [])
      .then((previous) => {
        if (cancelled) return;
        if (previous.length) {
          upload.resumeFromPreviousUpload(previous[0]);
          if (onResume) onResume();
        }
        upload.start();
      });
  });
  const abort = () => {
    cancelled = true;
    // Stops sending and deletes what the server has of it (tus termination).
    upload.abort(true).catch(() => {});
    fail(new ApiError(0, "upload_aborted", "upload cancelled"));
  };
  return { promise, abort };
}
