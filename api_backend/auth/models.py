"""API keys. Only a SHA-256 hash of each key is stored; the key itself is shown once, at creation.
Each key also has a webhook secret, shown at creation and again with `keys webhook-secret`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from api_backend.db.base import Base, UTCDateTime, utcnow


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    # The key's first characters, kept in clear to find it fast and to show which key is which.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Signs the webhooks of this key's jobs (Standard Webhooks, `whsec_…`). Kept in clear: signing
    # needs it, and the receiver holds the same value.
    webhook_secret: Mapped[str | None] = mapped_column(String(64))
