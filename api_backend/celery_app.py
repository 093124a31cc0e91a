"""The Celery application: analysis queues `gpu` (torch/CUDA) and `cpu` (ONNX Runtime), and `webhooks`
for deliveries (its own workers: an analysis worker never waits on a client's slow receiver).

Jobs are acknowledged only after they finish (`acks_late`), so a worker that dies mid-job leaves
the message to be redelivered; job state itself lives in the database, not in a result backend.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import setup_logging
from kombu import Queue

from api_backend.observability.logs import configure_logging
from api_backend.settings import Settings, get_settings, is_redis_url

GPU_QUEUE = "gpu"
CPU_QUEUE = "cpu"
WEBHOOK_QUEUE = "webhooks"
QUEUES = (GPU_QUEUE, CPU_QUEUE, WEBHOOK_QUEUE)


def transport_options(broker_url: str, visibility_timeout: int) -> dict[str, object]:
    if is_redis_url(broker_url):
        return {"visibility_timeout": visibility_timeout, "polling_interval": 0.5}
    return {}  # the SQLAlchemy transport hands its options to create_engine(), which takes none of these


def create_celery(settings: Settings) -> Celery:
    app = Celery(
        "shadow_trainer",
        broker=settings.resolved_broker_url,
        include=["api_backend.jobs.tasks", "api_backend.webhooks.tasks", "api_backend.workers.heartbeat"],
    )
    # A redelivered job must not start while the first delivery could still be running.
    visibility_timeout = settings.job_time_limit_s + 300
    app.conf.update(
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue=CPU_QUEUE,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        task_soft_time_limit=settings.job_soft_time_limit_s,
        task_time_limit=settings.job_time_limit_s,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_max_tasks_per_child=50,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport_options(settings.resolved_broker_url, visibility_timeout),
        result_backend=None,
        timezone="UTC",
        imports=["api_backend.maintenance.tasks"],
        beat_schedule=maintenance_schedule(settings),
    )
    return app


def maintenance_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery beat (`shadow-trainer beat`): retention and stuck-job recovery on the `cpu` queue,
    every MAINTENANCE_INTERVAL_S. A run that waited longer than one interval is dropped (`expires`):
    the next one does the same work."""
    every = settings.maintenance_interval_s
    options = {"queue": CPU_QUEUE, "expires": every}
    tasks = {"retention": "retention", "recover-jobs": "recover_jobs"}
    return {
        entry: {"task": f"shadow_trainer.maintenance.{task}", "schedule": every, "options": options}
        for entry, task in tasks.items()
    }


celery_app = create_celery(get_settings())


@setup_logging.connect
def _json_logs(**_: Any) -> None:
    # Connecting this signal stops Celery from installing its own handlers: one format everywhere.
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
