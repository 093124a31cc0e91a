"""How jobs end, counted by `jobs.ending.end_job` in whichever process ended them: a worker (done,
failed, cancelled while running) or an API server (cancelled while queued, refused by the queue).
Prometheus adds the processes up."""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Histogram

DURATION_BUCKETS = (1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 3600)
JOBS_FINISHED = Counter(
    "shadow_jobs_finished_total", "Jobs that reached a terminal state", ["queue", "status", "error_code"]
)
JOB_DURATION = Histogram(
    "shadow_job_duration_seconds",
    "Wall time of a job from its (first) start to its end",
    ["queue", "status"],
    buckets=DURATION_BUCKETS,
)


def record_job_end(
    queue: str, status: str, error_code: str | None, started: datetime | None, finished: datetime | None
) -> None:
    JOBS_FINISHED.labels(queue, status, error_code or "").inc()
    if started is not None and finished is not None:  # a job cancelled or refused while queued never ran
        JOB_DURATION.labels(queue, status).observe(max((finished - started).total_seconds(), 0.0))
