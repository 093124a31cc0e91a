"""Which secret signs a job's webhook: its API key's own, or (jobs made in open mode) WEBHOOK_SECRET,
else one derived from SECRET_KEY one-way — so whoever verifies webhooks cannot forge download links,
which SECRET_KEY signs."""

from __future__ import annotations

import base64
import hashlib
import hmac

from sqlalchemy.orm import Session

from api_backend.auth.models import ApiKey
from api_backend.jobs.models import Job
from api_backend.settings import Settings


def open_mode_webhook_secret(settings: Settings) -> str:
    if settings.webhook_secret:
        return settings.webhook_secret
    derived = hmac.new(settings.secret_key.encode(), b"shadow-trainer webhook secret v1", hashlib.sha256)
    return "whsec_" + base64.b64encode(derived.digest()[:24]).decode()


def webhook_secret_for(session: Session, job: Job, settings: Settings) -> str:
    key = session.get(ApiKey, job.api_key_id) if job.api_key_id else None
    if key is not None and key.webhook_secret:
        return key.webhook_secret
    return open_mode_webhook_secret(settings)
