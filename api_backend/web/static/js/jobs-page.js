// Jobs page: the whole history with a status filter, "load older jobs" and live progress.
import { $ } from "./dom.js";
import { createJobList } from "./joblist.js";

createJobList($("#jobs"), { limit: 20, filter: true, title: "All jobs" });
