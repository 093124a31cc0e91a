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
    response = await fetch(path, { ...options, headers: { Accept: "application/json", ...authHeaders() } });
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

/**
 * Where to fetch an output of a job: the job's own (possibly signed) link, made relative when it points at
 * this API so that it works behind any proxy, else the plain output path (which needs the API key).
 */
export function outputUrl(job, name) {
  const link = job.outputs && job.outputs[name];
  if (!link) return outputPath(job.id, name);
  try {
    const url = new URL(link, window.location.href);
    return url.pathname.startsWith("/api/v1/jobs/") ? `${url.pathname}${url.search}` : url.href;
  } catch {
    return outputPath(job.id, name);
  }
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

export function cancelJob(id) {
  return request(`${jobPath(id)}/cancel`, { method: "POST" });
}

/** An output document (punches.json, summary.json) of a finished job, parsed as JSON. */
export function getOutputJson(job, name) {
  return request(outputUrl(job, name));
}

/**
 * Upload a video with XMLHttpRequest so that the browser reports upload progress.
 * Returns {promise, abort}; the promise resolves to the job and rejects with an ApiError
 * (code "upload_aborted" after abort()).
 */
export function uploadVideo(file, fields, { onProgress, idempotencyKey } = {}) {
  const xhr = new XMLHttpRequest();
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) {
    if (value) form.append(key, value);
  }
  form.append("file", file, file.name);
  const promise = new Promise((resolve, reject) => {
    xhr.upload.addEventListener("progress", (event) => {
      if (onProgress) onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 200 || xhr.status === 202) resolve(body);
      else reject(errorFromBody(xhr.status, body));
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network_error", "the upload was interrupted")));
    xhr.addEventListener("abort", () => reject(new ApiError(0, "upload_aborted", "upload cancelled")));
    xhr.addEventListener("timeout", () => reject(new ApiError(0, "network_error", "the upload timed out")));
  });
  xhr.open("POST", "/api/v1/jobs");
  xhr.setRequestHeader("Accept", "application/json");
  for (const [name, value] of Object.entries(authHeaders())) xhr.setRequestHeader(name, value);
  // The same key for the same chosen file: sending it twice answers with the first job, not a duplicate.
  xhr.setRequestHeader("Idempotency-Key", idempotencyKey || newIdempotencyKey());
  xhr.send(form);
  return { promise, abort: () => xhr.abort() };
}

export function newIdempotencyKey() {
  if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
  return `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}
