"""The Celery task that delivers a job's webhook, retrying with exponential backoff."""

from __future__ import annotations

import logging
import uuid

import httpx
from celery import Task

from api_backend.celery_app import WEBHOOK_QUEUE, celery_app
from api_backend.db.engine import session_scope
from api_backend.jobs import repository
from api_backend.jobs.service import output_links, public_base
from api_backend.settings import get_settings
from api_backend.webhooks.address_check import CallbackAddressError, check_callback_url
from api_backend.webhooks.delivery import payload, send
from api_backend.webhooks.secrets import webhook_secret_for

log = logging.getLogger(__name__)
WEBHOOK_TASK = "shadow_trainer.deliver_webhook"


@celery_app.task(bind=True, name=WEBHOOK_TASK, max_retries=None, acks_late=True)
def deliver_webhook(self: Task, job_id: str) -> None:
    settings = get_settings()
    with session_scope() as session:
        job = repository.get_job(session, uuid.UUID(job_id))
        if job is None or not job.callback_url or job.callback_status == "delivered":
            return
        base_url = public_base(settings)
        url, body = job.callback_url, payload(job, base_url, output_links(job, base_url, settings))
        secret = webhook_secret_for(session, job, settings)
        job.callback_attempts += 1
    try:
        # Checked again at delivery: the host may resolve elsewhere now than at submission.
        check_callback_url(url, allow_private=settings.allow_private_callbacks)
        send(url, body, secret=secret, deadline_s=settings.callback_timeout_s,
             delivery_id=uuid.uuid5(uuid.NAMESPACE_URL, f"{job_id}:{body['type']}"))  # fmt: skip
    except CallbackAddressError as exc:
        _record(job_id, "failed", str(exc))
    except httpx.HTTPError as exc:
        retries = self.request.retries
        if retries >= settings.callback_max_retries:
            _record(job_id, "failed", f"gave up after {retries + 1} attempts: {exc}")
            return
        _record(job_id, "pending", str(exc))
        raise self.retry(exc=exc, countdown=min(3600, 2 ** (retries + 1))) from exc
    else:
        _record(job_id, "delivered", None)


def _record(job_id: str, status: str, error: str | None) -> None:
    with session_scope() as session:
        job = repository.get_job(session, uuid.UUID(job_id))
        if job is not None:
            job.callback_status, job.callback_error = status, error
    log.info("webhook for job %s: %s", job_id, status, extra={"error": error})


def schedule_webhook(job_id: uuid.UUID) -> None:
    """Send the job's webhook soon (no-op for jobs without a callback_url), on the webhooks queue."""
    deliver_webhook.apply_async(args=[str(job_id)], queue=WEBHOOK_QUEUE)
