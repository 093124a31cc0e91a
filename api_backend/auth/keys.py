"""Creating, finding and revoking API keys, in the caller's transaction. Keys are random 256-bit
secrets, so one SHA-256 is enough to store them safely (no slow hash needed: nothing to brute-force)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from api_backend.auth.models import ApiKey
from api_backend.db.base import utcnow

KEY_PREFIX = "st_"
PREFIX_LENGTH = len(KEY_PREFIX) + 8


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str, owner: str | None = None) -> tuple[ApiKey, str]:
    """A new key; the secret is returned once and never stored."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = uuid.uuid4()
    row = ApiKey(
        id=key_id,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        key_hash=hash_key(key),
        owner=owner or key_id.hex[:16],
        webhook_secret=new_webhook_secret(),
    )
    session.add(row)
    return row, key


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def authenticate(session: Session, key: str) -> ApiKey | None:
    if not key.startswith(KEY_PREFIX) or len(key) < PREFIX_LENGTH + 8:
        return None
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == key[:PREFIX_LENGTH])).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.key_hash, hash_key(key)):
        return None
    return row


def list_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at)))


def revoke_key(session: Session, prefix: str) -> bool:
    row = session.scalars(select(ApiKey).where(ApiKey.prefix == prefix)).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True
