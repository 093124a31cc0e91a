"""Builds, signs and sends the webhook for a finished job.

Receivers verify `X-Shadow-Signature: sha256=<hex>` = HMAC-SHA256(SECRET_KEY, "<timestamp>.<body>")
with `X-Shadow-Timestamp`, and should reject timestamps older than a few minutes (replays).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import httpx

from api_backend.jobs.models import Job


def payload(job: Job) -> dict[str, Any]:
    return {
        "event": f"job.{job.status}",
        "job": {
            "id": str(job.id),
            "status": job.status,
            "error": {"code": job.error_code, "message": job.error_message} if job.error_code else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "outputs": sorted(job.output_keys),
            "url": f"/api/v1/jobs/{job.id}",
        },
    }


def signature(secret: str, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def send(url: str, body: dict[str, Any], *, secret: str, deadline_s: float, delivery_id: uuid.UUID) -> None:
    """POST the webhook; raises httpx.HTTPError (incl. a non-2xx answer) so the caller can retry.

    ``deadline_s`` bounds the whole attempt (connect, send, the answer), not each read: a receiver
    that trickles a byte a second cannot hold a delivery worker longer than that.
    """
    raw = json.dumps(body, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "shadow-trainer-webhook/1",
        "X-Shadow-Timestamp": timestamp,
        "X-Shadow-Signature": signature(secret, timestamp, raw),
        "X-Shadow-Delivery": str(delivery_id),
    }
    asyncio.run(_post(url, raw, headers, deadline_s))


async def _post(url: str, raw: bytes, headers: dict[str, str], deadline_s: float) -> None:
    async with httpx.AsyncClient(timeout=deadline_s, follow_redirects=False) as client:
        try:
            async with asyncio.timeout(deadline_s):
                response = await client.post(url, content=raw, headers=headers)
        except TimeoutError as exc:
            raise httpx.TimeoutException(f"no complete answer within {deadline_s:g} s") from exc
    response.raise_for_status()
