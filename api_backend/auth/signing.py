"""Signed, expiring download links for job outputs, so that a <video> element or a shared link can
fetch an output without the API key, and only until the link expires."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid

# Links stay the same for up to this long, so a job's JSON does not change on every read (live event
# streams compare snapshots). A link is valid for at most `expires_s`, and at least `expires_s` minus
# this (or half of `expires_s` when that is shorter).
STABLE_FOR_S = 600


def _signature(secret: str, job_id: uuid.UUID, name: str, expires: int) -> str:
    message = f"{job_id}:{name}:{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign_output(secret: str, job_id: uuid.UUID, name: str, expires_s: int, now: float | None = None) -> str:
    """The query string (`expires=…&signature=…`) for one output link."""
    now = time.time() if now is None else now
    stable_s = max(1, min(STABLE_FOR_S, expires_s // 2))
    expires = int(now // stable_s) * stable_s + expires_s
    return f"expires={expires}&signature={_signature(secret, job_id, name, expires)}"


def verify_output(secret: str, job_id: uuid.UUID, name: str, expires: int, signature: str) -> bool:
    if expires < time.time():
        return False
    return hmac.compare_digest(_signature(secret, job_id, name, expires), signature)
