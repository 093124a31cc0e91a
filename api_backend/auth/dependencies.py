"""Who is calling: the owner of the API key, or the single local owner in open mode."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api_backend.auth.keys import authenticate
from api_backend.auth.limiter import count_auth_failure
from api_backend.auth.models import ApiKey
from api_backend.db.engine import get_sessionmaker
from api_backend.errors import ApiError
from api_backend.settings import get_settings

OPEN_OWNER = "local"


def presented_key(request: Request) -> str | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return request.headers.get("x-api-key") or None


def _key_of(session: Session, key: str | None) -> ApiKey:
    if key is None:
        raise ApiError(401, "unauthorized", "send your API key as `Authorization: Bearer <key>`",
                       headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    row = authenticate(session, key)
    if row is None:
        raise ApiError(401, "unauthorized", "the API key is unknown or revoked",
                       headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    return row


# Declared so the OpenAPI document has the Bearer scheme (and /docs an Authorize button); the key
# itself is read by `presented_key`, which also accepts `X-API-Key`.
bearer = HTTPBearer(auto_error=False, description="an API key from `shadow-trainer keys create`")


def get_owner(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)] = None
) -> str:
    if get_settings().auth_mode == "open":
        return OPEN_OWNER
    try:
        with get_sessionmaker()() as session:
            row = _key_of(session, presented_key(request))
    except ApiError:
        count_auth_failure(request)  # 429 once this address has failed too often
        raise
    request.state.owner, request.state.key_prefix, request.state.key_id = row.owner, row.prefix, row.id
    return row.owner


OwnerDep = Annotated[str, Depends(get_owner)]
