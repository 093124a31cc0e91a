// The job history: newest first, "load older jobs" with the cursor, live progress for unfinished jobs.
import { ApiError, cancelJob, deleteJob, listJobs, resultPage, thumbnailUrl } from "./api.js";
import { announce, h } from "./dom.js";
import { explain } from "./errors.js";
import {
  STATUS_LABELS,
  formatBytes,
  formatDate,
  formatDuration,
  formatPercent,
  isTerminal,
  jobName,
  stageLabel,
} from "./format.js";
import { watchJob } from "./live.js";

export function statusBadge(status) {
  return h("span", { class: `badge badge-${status}`, dataset: { status } }, STATUS_LABELS[status] || status);
}

export function progressBar(label) {
  const fill = h("div", { class: "progress-fill" });
  const bar = h(
    "div",
    { class: "progress", role: "progressbar", "aria-label": label, "aria-valuemin": "0", "aria-valuemax": "100" },
    fill,
  );
  const set = (fraction) => {
    const value = Math.round(Math.min(Math.max(fraction, 0), 1) * 100);
    fill.style.width = `${value}%`;
    bar.setAttribute("aria-valuenow", String(value));
    bar.dataset.value = String(value);
  };
  set(0);
  return { element: bar, set };
}

/** A box that says what went wrong and what to do. */
export function errorBox(code, message, ctx = {}) {
  const info = explain(code, message, ctx);
  return h(
    "div",
    { class: "error-box", dataset: { code } },
    h("p", { class: "error-title" }, info.title),
    h("p", { class: "error-advice" }, info.advice),
    info.detail ? h("p", { class: "error-detail" }, `Details: ${info.detail}`) : null,
  );
}

function jobMeta(job) {
  const parts = [formatDate(job.created_at), formatBytes(job.size)];
  if (job.video && job.video.duration) parts.push(formatDuration(job.video.duration));
  if (job.model) parts.push(job.model);
  return parts.filter(Boolean).join(" · ");
}

/** "42 punches · 31.5 per minute · 3 combinations", the main fighter's when several box. */
function jobFigures(job) {
  const f = job.figures;
  if (!f) return "";
  if (!f.fighters) return "No boxer found";
  const parts = [`${f.punches} punch${f.punches === 1 ? "" : "es"}`, `${f.punches_per_minute.toFixed(1)} per minute`];
  if (f.combos) parts.push(`${f.combos} combination${f.combos === 1 ? "" : "s"}`);
  if (f.fighters > 1) parts.push(`main fighter of ${f.fighters}`);
  return parts.join(" · ");
}

function thumbnail(job) {
  const url = thumbnailUrl(job);
  // A fixed box either way, so the list does not jump when the image arrives.
  return url
    ? h("img", { class: "job-thumb", src: url, alt: "", loading: "lazy", width: 96, height: 54 })
    : h("div", { class: "job-thumb empty-thumb", "aria-hidden": "true" });
}

/**
 * Render the job list into `root`. Options: limit (page size), filter (show a status filter),
 * heading. Returns {prepend(job), reload()}.
 */
export function createJobList(root, { limit = 20, filter = false, title = "Your jobs" } = {}) {
  const items = new Map(); // id → {element, update(job), stop()}
  const list = h("ul", { class: "job-list", id: "job-list", "aria-live": "off" });
  const status = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const empty = h("p", { class: "empty", hidden: true }, "No jobs yet. Upload a video to start.");
  const loadError = h("div", { class: "list-error", role: "alert" });
  const more = h("button", { type: "button", class: "button secondary", id: "load-more", hidden: true }, "Load older jobs");
  let cursor = null;
  let statusFilter = "";

  const select = filter
    ? h(
        "select",
        { id: "status-filter", name: "status" },
        h("option", { value: "" }, "All jobs"),
        ...["running", "queued", "succeeded", "failed", "cancelled"].map((value) =>
          h("option", { value }, STATUS_LABELS[value]),
        ),
      )
    : null;

  root.append(
    h(
      "div",
      { class: "section-head" },
      h("h2", { id: "jobs-heading" }, title),
      select ? h("div", { class: "field inline" }, h("label", { for: "status-filter" }, "Show"), select) : null,
    ),
    loadError,
    empty,
    list,
    h("div", { class: "list-foot" }, more),
    status,
  );
  list.setAttribute("aria-labelledby", "jobs-heading");

  function renderItem(job) {
    const badge = h("span");
    const stage = h("span", { class: "job-stage" });
    const bar = progressBar(`Progress of ${job.filename}`);
    const progressRow = h("div", { class: "job-progress" }, bar.element, stage);
    const errorSlot = h("div");
    const actions = h("div", { class: "job-actions" });
    const meta = h("p", { class: "job-meta" });
    const figures = h("p", { class: "job-figures" });
    const thumb = h("div", { class: "job-thumb-slot" });
    const element = h(
      "li",
      { class: "job", dataset: { jobId: job.id } },
      thumb,
      h(
        "div",
        { class: "job-body" },
        h(
          "div",
          { class: "job-head" },
          h("a", { class: "job-name", href: resultPage(job.id) }, jobName(job)),
          badge,
        ),
        meta,
        figures,
        progressRow,
        errorSlot,
        actions,
      ),
    );

    const update = (next) => {
      element.dataset.status = next.status;
      badge.replaceChildren(statusBadge(next.status));
      meta.textContent = jobMeta(next);
      figures.textContent = jobFigures(next);
      figures.hidden = !next.figures;
      if (thumb.dataset.url !== String(next.thumbnail)) {
        thumb.dataset.url = String(next.thumbnail);
        thumb.replaceChildren(thumbnail(next));
      }
      const running = !isTerminal(next);
      progressRow.hidden = !running;
      bar.set(next.progress);
      stage.textContent = `${stageLabel(next.stage, next.status)} · ${formatPercent(next.progress)}`;
      errorSlot.replaceChildren();
      if (next.status === "failed" && next.error) errorSlot.append(errorBox(next.error.code, next.error.message));
      if (next.status === "cancelled") errorSlot.append(errorBox("cancelled", ""));
      actions.replaceChildren();
      if (next.status === "succeeded") {
        actions.append(h("a", { class: "button small", href: resultPage(next.id) }, "View result"));
      }
      if (!running) {
        actions.append(deleteButton(next, actions));
      } else {
        actions.append(
          h("a", { class: "button small secondary", href: resultPage(next.id) }, "Details"),
          h(
            "button",
            {
              type: "button",
              class: "button small danger",
              "aria-label": `Cancel analysis of ${next.filename}`,
              onclick: (event) => cancel(next, event.currentTarget),
            },
            "Cancel",
          ),
        );
      }
    };
    update(job);
    const stop = isTerminal(job) ? () => {} : watchJob(job.id, update);
    return { element, update, stop };
  }

  async function cancel(job, button) {
    button.disabled = true;
    try {
      const updated = await cancelJob(job.id);
      items.get(job.id)?.update(updated);
      announce(status, `Cancelling ${job.filename}.`);
    } catch (error) {
      const info = explain(error.code, error.message);
      announce(status, `${info.title} ${info.advice}`);
      button.disabled = false;
    }
  }

  // Two steps, in the page (no confirm() dialog): the job and its files cannot be brought back.
  function deleteButton(job, actions) {
    const name = jobName(job);
    return h("button", {
      type: "button", class: "button small secondary", "aria-label": `Delete ${name}`,
      onclick: () => {
        const keep = h("button", { type: "button", class: "button small secondary", onclick: () => items.get(job.id)?.update(job) }, "Keep");
        const sure = h("button", {
          type: "button", class: "button small danger", "aria-label": `Delete ${name} and its files for good`,
          onclick: (event) => remove(job, event.currentTarget),
        }, "Delete for good");
        actions.replaceChildren(h("span", { class: "job-stage" }, "Delete the video and every result?"), sure, keep);
        sure.focus();
      },
    }, "Delete");
  }

  async function remove(job, button) {
    button.disabled = true;
    try {
      await deleteJob(job.id);
      const item = items.get(job.id);
      item?.stop();
      item?.element.remove();
      items.delete(job.id);
      empty.hidden = items.size > 0;
      announce(status, `Deleted ${jobName(job)}.`);
    } catch (error) {
      const info = explain(error.code, error.message);
      announce(status, `${info.title} ${info.advice}`);
      button.disabled = false;
    }
  }

  function add(job, { atTop = false } = {}) {
    const existing = items.get(job.id);
    if (existing) {
      existing.update(job);
      return;
    }
    const item = renderItem(job);
    items.set(job.id, item);
    if (atTop) list.prepend(item.element);
    else list.append(item.element);
    empty.hidden = true;
  }

  async function loadPage() {
    more.disabled = true;
    loadError.replaceChildren();
    try {
      const page = await listJobs({ status: statusFilter, limit, cursor });
      page.items.forEach((job) => add(job));
      cursor = page.next_cursor;
      more.hidden = !cursor;
      empty.hidden = items.size > 0;
      if (page.items.length) announce(status, `Showing ${items.size} jobs.`);
    } catch (error) {
      const code = error instanceof ApiError ? error.code : "network_error";
      loadError.replaceChildren(errorBox(code, error.message));
    } finally {
      more.disabled = false;
    }
  }

  function reload() {
    for (const item of items.values()) item.stop();
    items.clear();
    list.replaceChildren();
    cursor = null;
    return loadPage();
  }

  more.addEventListener("click", () => loadPage());
  if (select) {
    select.addEventListener("change", () => {
      statusFilter = select.value;
      reload();
    });
  }
  const ready = loadPage();
  return {
    ready,
    reload,
    prepend: (job) => {
      if (!statusFilter || statusFilter === job.status) add(job, { atTop: true });
    },
  };
}
