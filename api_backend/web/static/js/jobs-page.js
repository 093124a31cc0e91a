// Jobs page: the whole history with a status filter, "load older jobs" and live progress.
// `?limit=N` (1..100) sets the page size.
import { $ } from "./dom.js";
import { createJobList } from "./joblist.js";

const requested = Number.parseInt(new URLSearchParams(window.location.search).get("limit") || "", 10);
const limit = Number.isFinite(requested) ? Math.min(Math.max(requested, 1), 100) : 20;

createJobList($("#jobs"), { limit, filter: true, title: "All jobs" });
