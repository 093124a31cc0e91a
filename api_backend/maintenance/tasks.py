"""Celery tasks for maintenance, scheduled by beat (see `celery_app.py`, `shadow-trainer beat`)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from api_backend.celery_app import celery_app
from api_backend.maintenance.service import recover_jobs, run_retention

log = logging.getLogger(__name__)

RETENTION_TASK = "shadow_trainer.maintenance.retention"
RECOVERY_TASK = "shadow_trainer.maintenance.recover_jobs"


@celery_app.task(name=RETENTION_TASK, acks_late=False)
def retention() -> dict[str, Any]:
    report = asdict(run_retention())
    log.info("retention run", extra={"maintenance": report})
    return report


@celery_app.task(name=RECOVERY_TASK, acks_late=False)
def recover() -> dict[str, Any]:
    report = recover_jobs()
    result = {name: [str(job_id) for job_id in ids] for name, ids in asdict(report).items()}
    if any(result.values()):
        log.warning("stuck-job recovery", extra={"maintenance": result})
    return result
