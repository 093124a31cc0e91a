"""Upload ids that say whose upload they are, so no lookup is needed to refuse another owner's.

An id is 8 hex characters of HMAC(SECRET_KEY, owner) and 24 random ones (96 bits): 32 characters,
the length `tuspyserver`'s local backend lists. Another owner's id, or a made-up one, is answered
404 like an id that does not exist.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

OWNER_TAG_CHARS = 8
UPLOAD_ID_RE = re.compile(r"[0-9a-f]{32}")


def owner_tag(secret_key: str, owner: str) -> str:
    mac = hmac.new(secret_key.encode(), f"resumable-upload:{owner}".encode(), hashlib.sha256)
    return mac.hexdigest()[:OWNER_TAG_CHARS]


def new_upload_id(secret_key: str, owner: str) -> str:
    return owner_tag(secret_key, owner) + secrets.token_hex(12)


def is_owners(upload_id: str, secret_key: str, owner: str) -> bool:
    if not UPLOAD_ID_RE.fullmatch(upload_id):
        return False
    return hmac.compare_digest(upload_id[:OWNER_TAG_CHARS], owner_tag(secret_key, owner))
