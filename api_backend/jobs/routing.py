"""Which queue a job goes to: the `device` option, and for `auto`, which workers exist."""

from __future__ import annotations

from sqlalchemy.orm import Session

from api_backend.celery_app import CPU_QUEUE, GPU_QUEUE
from api_backend.workers.registry import live_workers_per_queue


def choose_queue(session: Session, device: str, heartbeat_max_age_s: float) -> str:
    if device == "gpu":
        return GPU_QUEUE
    if device == "cpu":
        return CPU_QUEUE
    # auto: prefer a GPU when one is alive, otherwise the CPU workers (ONNX Runtime) take it.
    alive = live_workers_per_queue(session, heartbeat_max_age_s)
    return GPU_QUEUE if alive.get(GPU_QUEUE, 0) > 0 else CPU_QUEUE
