"""Worker metrics. Pool children record into prometheus_client's multiprocess files
(PROMETHEUS_MULTIPROC_DIR, set by `shadow-trainer worker` before anything imports prometheus_client);
the worker's main process serves them, plus queue lengths and GPU state read at scrape time."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from api_backend.celery_app import QUEUES
from api_backend.observability.job_metrics import DURATION_BUCKETS

log = logging.getLogger(__name__)

JOBS_STARTED = Counter("shadow_jobs_started_total", "Jobs a worker started", ["queue"])
JOB_FPS = Histogram(
    "shadow_job_frames_per_second", "Video frames analysed per second", ["queue"],
    buckets=(1, 2, 5, 10, 20, 30, 50, 100, 200, 300, 500, 1000),
)  # fmt: skip
STAGE_DURATION = Histogram(
    "shadow_job_stage_duration_seconds",
    "Time spent per job stage",
    ["queue", "stage"],
    buckets=DURATION_BUCKETS,
)
TRANSIENT_RETRIES = Counter(
    "shadow_job_transient_errors_total", "Infrastructure errors that made a job retry", ["queue", "kind"]
)
for _queue in QUEUES:  # exported at 0 from the start, so alerts and dashboards see the series
    for _kind in ("storage", "database", "network"):
        TRANSIENT_RETRIES.labels(_queue, _kind)
MODEL_LOAD = Histogram(
    "shadow_model_load_seconds", "Pose model load (and warm-up) time", ["queue"],
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
)  # fmt: skip


def record_stages(queue: str, stage_seconds: dict[str, float], frames_per_second: float) -> None:
    for stage, seconds in stage_seconds.items():
        STAGE_DURATION.labels(queue, stage).observe(seconds)
    if "loading_model" in stage_seconds:
        MODEL_LOAD.labels(queue).observe(stage_seconds["loading_model"])
    if frames_per_second > 0:
        JOB_FPS.labels(queue).observe(frames_per_second)


class QueueLengthCollector(Collector):
    """Messages waiting per queue, asked of the broker at scrape time."""

    def __init__(self, queues: tuple[str, ...]) -> None:
        self.queues = queues

    def collect(self) -> Iterator[Metric]:
        from api_backend.workers.queue_length import queue_lengths

        family = GaugeMetricFamily("shadow_queue_length", "Jobs waiting in the broker", labels=["queue"])
        try:
            for queue, length in queue_lengths(self.queues).items():
                family.add_metric([queue], length)
        except Exception as exc:  # broker down: no sample rather than a failed scrape
            log.warning("queue length unavailable: %s", exc)
        yield family


class GpuCollector(Collector):
    """GPU memory and utilisation from nvidia-smi (never touching CUDA in the forking parent)."""

    QUERY = "index,memory.used,memory.total,utilization.gpu"

    def collect(self) -> Iterator[Metric]:
        binary = shutil.which("nvidia-smi")
        if binary is None:
            return
        try:
            output = subprocess.run(
                [binary, f"--query-gpu={self.QUERY}", "--format=csv,noheader,nounits"],
                capture_output=True, text=True, timeout=5, check=True,
            ).stdout  # fmt: skip
        except (OSError, subprocess.SubprocessError) as exc:
            log.warning("nvidia-smi failed: %s", exc)
            return
        used = GaugeMetricFamily("shadow_gpu_memory_used_bytes", "GPU memory in use", labels=["gpu"])
        total = GaugeMetricFamily("shadow_gpu_memory_total_bytes", "GPU memory", labels=["gpu"])
        util = GaugeMetricFamily("shadow_gpu_utilization_ratio", "GPU busy fraction", labels=["gpu"])
        for line in output.strip().splitlines():
            index, mem_used, mem_total, busy = (part.strip() for part in line.split(","))
            used.add_metric([index], float(mem_used) * 2**20)
            total.add_metric([index], float(mem_total) * 2**20)
            util.add_metric([index], float(busy) / 100)
        yield from (used, total, util)


def scrape(queues: tuple[str, ...]) -> bytes:
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(QueueLengthCollector(queues))
    registry.register(GpuCollector())
    return generate_latest(registry)


def mark_process_dead(pid: int) -> None:
    multiprocess.mark_process_dead(pid)
