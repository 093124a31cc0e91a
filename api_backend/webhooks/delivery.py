"""Builds, signs and sends the webhook for a finished job, as Standard Webhooks
(https://www.standardwebhooks.com, the `standardwebhooks` library): headers `webhook-id`,
`webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "id.timestamp.body">`), signed
with the secret of the API key that made the job. A receiver checks it with the library's own
`Webhook(secret).verify(body, headers)`, which also refuses timestamps more than 5 minutes off.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from standardwebhooks.webhooks import Webhook

from api_backend.jobs.models import Job


def payload(job: Job, base_url: str, links: dict[str, str]) -> dict[str, Any]:
    """``base_url``: where clients reach the API; ``links``: the signed output links (absolute)."""
    return {
        "type": f"job.{job.status}",
        "timestamp": (job.finished_at or datetime.now(UTC)).isoformat(),
        "data": {
            "id": str(job.id),
            "status": job.status,
            "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "url": f"{base_url}api/v1/jobs/{job.id}",
            "outputs": links,
            "figures": job.figures,  # the session at a glance (as GET /jobs/{id}); null unless succeeded
        },
    }


def send(url: str, body: dict[str, Any], *, secret: str, deadline_s: float, delivery_id: uuid.UUID) -> None:
    """POST the webhook; raises httpx.HTTPError (incl. a non-2xx answer) so the caller can retry.

    ``deadline_s`` bounds the whole attempt (connect, send, the answer), not each read: a receiver
    that trickles a byte a second cannot hold a delivery worker longer than that.
    """
    raw = json.dumps(body, separators=(",", ":"))
    now = datetime.now(UTC)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "shadow-trainer-webhook/2",
        "webhook-id": str(delivery_id),  # the same on every retry: receivers drop duplicates by it
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(str(delivery_id), now, raw),
    }
    asyncio.run(_post(url, raw.encode(), headers, deadline_s))


async def _post(url: str, raw: bytes, headers: dict[str, str], deadline_s: float) -> None:
    async with httpx.AsyncClient(timeout=deadline_s, follow_redirects=False) as client:
        try:
            async with asyncio.timeout(deadline_s):
                response = await client.post(url, content=raw, headers=headers)
        except TimeoutError as exc:
            raise httpx.TimeoutException(f"no complete answer within {deadline_s:g} s") from exc
    response.raise_for_status()
