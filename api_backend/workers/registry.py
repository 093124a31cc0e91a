"""Worker heartbeats: written by each worker, read for routing and health checks."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api_backend.db.base import utcnow
from api_backend.workers.models import WorkerHeartbeat


def record_heartbeat(session: Session, hostname: str, queues: list[str], has_gpu: bool) -> None:
    row = session.get(WorkerHeartbeat, hostname)
    if row is None:
        session.add(WorkerHeartbeat(hostname=hostname, queues=",".join(queues), has_gpu=has_gpu))
        return
    row.queues = ",".join(queues)
    row.has_gpu = has_gpu
    row.last_seen = utcnow()


def remove_worker(session: Session, hostname: str) -> None:
    session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.hostname == hostname))


def live_workers(session: Session, max_age_s: float) -> list[WorkerHeartbeat]:
    cutoff = utcnow() - timedelta(seconds=max_age_s)
    return list(session.scalars(select(WorkerHeartbeat).where(WorkerHeartbeat.last_seen >= cutoff)))


def live_workers_per_queue(session: Session, max_age_s: float) -> dict[str, int]:
    return per_queue(live_workers(session, max_age_s))


def per_queue(workers: list[WorkerHeartbeat]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for worker in workers:
        for queue in filter(None, worker.queues.split(",")):
            counts[queue] = counts.get(queue, 0) + 1
    return counts
